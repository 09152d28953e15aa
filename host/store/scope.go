package store

// Scope is whose rows a call may see and change: one project's, or every project's (an admin
// with all_tenants, and the host's own flows). The zero Scope sees nothing, so that forgetting
// to set it fails closed.
type Scope struct {
	ProjectID   string
	AllProjects bool
}

// ProjectScope is the scope of one project.
func ProjectScope(projectID string) Scope { return Scope{ProjectID: projectID} }

// AllProjects is the scope of every project.
func AllProjects() Scope { return Scope{AllProjects: true} }

// where returns the condition on alias.project_id and its arguments, or an error for the zero
// scope.
func (sc Scope) where(alias string) (string, []any, error) {
	switch {
	case sc.AllProjects:
		return "1 = 1", nil, nil
	case sc.ProjectID != "":
		return alias + ".project_id = ?", []any{sc.ProjectID}, nil
	}
	return "", nil, invalid("no project in scope")
}

// sees reports whether the scope includes a row of project.
func (sc Scope) sees(project string) bool {
	return sc.AllProjects || (sc.ProjectID != "" && sc.ProjectID == project)
}
