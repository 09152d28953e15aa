package api

import (
	"net/http"
	"strings"
)

// Options configure the API.
type Options struct {
	// Auth authenticates every request under /v3; required.
	Auth Authenticator
}

// Server is the API's handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
}

// New builds the API.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", versions)
	s.mux.HandleFunc("GET /v3/{$}", v3Version)
	return s
}

// handle registers an authenticated, version-negotiated route under /v3/{project_id}.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.Handle(method+" /v3/{project_id}"+path, negotiate(authenticate(s.opts.Auth, h)))
}

// ServeHTTP serves the API; unknown paths get Cinder's 404 fault body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeFault(w, faultf(http.StatusNotFound, "The resource could not be found."))
		return
	}
	s.mux.ServeHTTP(w, r)
}
