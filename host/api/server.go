package api

import (
	"net/http"
	"strings"

	"github.com/kilnstorage/kiln/host/store"
)

// Options configure the API.
type Options struct {
	// Auth authenticates every request under /v3; required.
	Auth Authenticator
	// Store holds the state the API reads and changes; without it only version discovery and
	// the routes tests add are served.
	Store *store.Store
	// Zones are the availability zones of the configured backends.
	Zones []string
	// Volumes runs the volume flows; without it the volume routes are not served.
	Volumes VolumeService
	// Snapshots runs the snapshot flows; without it the snapshot routes are not served.
	Snapshots SnapshotService
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
	if opts.Store != nil {
		s.typeRoutes()
		s.quotaRoutes()
		s.adminRoutes()
	}
	if opts.Store != nil && opts.Volumes != nil {
		s.volumeRoutes()
	}
	if opts.Store != nil && opts.Snapshots != nil {
		s.snapshotRoutes()
	}
	return s
}

// handle registers an authenticated, version-negotiated route under /v3/{project_id}; the URL's
// project must be the caller's.
func (s *Server) handle(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.Handle(method+" /v3/{project_id}"+path, negotiate(authenticate(s.opts.Auth, ownProject(h))))
}

// ServeHTTP serves the API; unknown paths get Cinder's 404 fault body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeFault(w, faultf(http.StatusNotFound, "The resource could not be found."))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// ownProject refuses a URL whose project is not the caller's (Cinder's "Malformed request url").
func ownProject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, fault := projectOf(r); fault != nil {
			writeFault(w, fault)
			return
		}
		next.ServeHTTP(w, r)
	})
}
