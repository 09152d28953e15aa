package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Identity is who makes a request.
type Identity struct {
	User, Project string
	Admin         bool
}

type identityKey struct{}

// identity returns the request's caller; middleware guarantees there is one.
func identity(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}

// Authenticator turns a request's token into an Identity.
type Authenticator interface {
	Authenticate(r *http.Request) (Identity, *Fault)
}

// NoAuth is Cinder's noauth strategy for development: the token is "user:project" (or "user",
// meaning the project of the same name), and every caller is an admin. A request without a
// token gets 204 and the token to use, as Cinder's NoAuthMiddleware answers.
type NoAuth struct{}

// Authenticate parses a noauth token.
func (NoAuth) Authenticate(r *http.Request) (Identity, *Fault) {
	token := r.Header.Get("X-Auth-Token")
	user, project, ok := strings.Cut(token, ":")
	if !ok {
		project = user
	}
	return Identity{User: user, Project: project, Admin: true}, nil
}

// TokenFile authenticates tokens listed in a JSON file:
//
//	{"s3cr3t": {"user": "alice", "project": "p1", "roles": ["member"]}, …}
//
// A caller with the role "admin" is an admin.
type TokenFile struct {
	tokens map[string]tokenEntry
}

type tokenEntry struct {
	User    string   `json:"user"`
	Project string   `json:"project"`
	Roles   []string `json:"roles"`
}

// LoadTokenFile reads a token file.
func LoadTokenFile(path string) (*TokenFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tokens map[string]tokenEntry
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tokens); err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	for token, e := range tokens {
		if token == "" || e.User == "" || e.Project == "" {
			return nil, fmt.Errorf("token file %s: every entry needs a token, a user and a project", path)
		}
	}
	return &TokenFile{tokens: tokens}, nil
}

// Authenticate looks the token up.
func (f *TokenFile) Authenticate(r *http.Request) (Identity, *Fault) {
	e, ok := f.tokens[r.Header.Get("X-Auth-Token")]
	if !ok {
		return Identity{}, faultf(http.StatusUnauthorized, "The request you have made requires authentication.")
	}
	return Identity{User: e.User, Project: e.Project, Admin: slices.Contains(e.Roles, "admin")}, nil
}

// authenticate puts the caller's Identity in the request's context.
func authenticate(a Authenticator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, noauth := a.(NoAuth); noauth && r.Header.Get("X-Auth-Token") == "" {
			noAuthToken(w, r)
			return
		}
		id, fault := a.Authenticate(r)
		if fault != nil {
			writeFault(w, fault)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// noAuthToken answers a noauth request without a token with the token to use.
func noAuthToken(w http.ResponseWriter, r *http.Request) {
	user := r.Header.Get("X-Auth-User")
	if user == "" {
		user = "admin"
	}
	project := r.Header.Get("X-Auth-Project-Id")
	if project == "" {
		project = "admin"
	}
	w.Header().Set("X-Auth-Token", user+":"+project)
	w.Header().Set("X-Server-Management-Url", "http://"+r.Host+"/v3/"+project)
	w.WriteHeader(http.StatusNoContent)
}

// projectOf checks a URL's project ID against the caller's: Cinder answers 400 "Malformed
// request url" when they differ.
func projectOf(r *http.Request) (string, *Fault) {
	id := identity(r.Context())
	if p := r.PathValue("project_id"); p != "" && p != id.Project {
		return "", faultf(http.StatusBadRequest, "Malformed request url")
	}
	return id.Project, nil
}

// adminOnly refuses members with 403, as Cinder's policy does for admin APIs.
func adminOnly(r *http.Request) *Fault {
	if !identity(r.Context()).Admin {
		return faultf(http.StatusForbidden, "Policy doesn't allow this operation to be performed.")
	}
	return nil
}
