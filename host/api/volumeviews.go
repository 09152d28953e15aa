package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
)

const timeFormat = "2006-01-02T15:04:05.000000"

// volumeJSON is Cinder's detailed volume. A struct rather than a map: encoding a map sorts its
// keys on every request, and the volume is the body of every status poll. The fields are in
// the order encoding a map gave them (alphabetical), so the bytes are the same.
type volumeJSON struct {
	Attachments       []any               `json:"attachments"`
	AvailabilityZone  string              `json:"availability_zone"`
	Bootable          string              `json:"bootable"`
	ConsistencyGroup  any                 `json:"consistencygroup_id"`
	CreatedAt         string              `json:"created_at"`
	Description       string              `json:"description"`
	Encrypted         bool                `json:"encrypted"`
	ID                string              `json:"id"`
	Links             []map[string]string `json:"links"`
	Metadata          map[string]string   `json:"metadata"`
	MigrationStatus   any                 `json:"migration_status"`
	Multiattach       bool                `json:"multiattach"`
	Name              string              `json:"name"`
	*volumeAdminJSON                      // admins only; nil leaves its keys out
	TenantID          string              `json:"os-vol-tenant-attr:tenant_id"`
	ReplicationStatus string              `json:"replication_status"`
	Size              int64               `json:"size"`
	SnapshotID        any                 `json:"snapshot_id"`
	SourceVolID       any                 `json:"source_volid"`
	Status            string              `json:"status"`
	UpdatedAt         any                 `json:"updated_at"`
	UserID            string              `json:"user_id"`
	VolumeType        string              `json:"volume_type"`
}

// volumeAdminJSON is what admins also see: where the volume lives and, under Kiln's own keys,
// its scheduling attempts and last error.
type volumeAdminJSON struct {
	Host      any      `json:"os-vol-host-attr:host"`
	Attempted []string `json:"os-vol-kiln-attr:attempted"`
	Attempts  int64    `json:"os-vol-kiln-attr:attempts"`
	Fault     any      `json:"os-vol-kiln-attr:fault"`
}

// volumeView is Cinder's detailed volume; admins also see where it lives and, under Kiln's own
// keys, its scheduling attempts and last error.
func (s *Server) volumeView(r *http.Request, v store.Volume) *volumeJSON {
	meta := v.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	view := &volumeJSON{
		ID: v.ID, Name: v.Name, Description: v.Description, Size: v.SizeBytes / gibBytes,
		Status: string(v.Status), AvailabilityZone: v.AvailabilityZone,
		VolumeType: s.typeName(r, v.VolumeTypeID), Metadata: meta,
		SnapshotID: nilIfEmpty(v.SnapshotID), SourceVolID: nilIfEmpty(v.SourceVolumeID),
		Bootable: "false", Attachments: []any{}, ReplicationStatus: "disabled",
		UserID: v.UserID, TenantID: v.ProjectID,
		CreatedAt: v.CreatedAt.UTC().Format(timeFormat), UpdatedAt: nilTime(v),
		Links: links(r, "volumes", v.ID),
	}
	if identity(r.Context()).Admin {
		admin := &volumeAdminJSON{Attempts: int64(v.Attempts), Attempted: v.Attempted, Fault: nilIfEmpty(v.Fault)}
		if v.Backend != "" {
			admin.Host = v.Backend + "#" + v.Pool
		}
		view.volumeAdminJSON = admin
	}
	return view
}

func nilTime(v store.Volume) any {
	if v.UpdatedAt.IsZero() {
		return nil
	}
	return v.UpdatedAt.UTC().Format(timeFormat)
}

// typeName names a volume type for views; an unknown ID shows as itself.
func (s *Server) typeName(r *http.Request, id string) string {
	if name, err := s.opts.Store.VolumeTypeName(r.Context(), id); err == nil {
		return name
	}
	return id
}

func links(r *http.Request, collection, id string) []map[string]string {
	project := identity(r.Context()).Project
	base := "http://" + r.Host
	return []map[string]string{
		{"rel": "self", "href": base + "/v3/" + project + "/" + collection + "/" + id},
		{"rel": "bookmark", "href": base + "/" + project + "/" + collection + "/" + id},
	}
}

// listVolumes answers GET /volumes (summary) and /volumes/detail with Cinder's filters, sort,
// limit and marker, and a next link when a page is full.
func (s *Server) listVolumes(detail bool) handler {
	return func(r *http.Request) (int, any, *Fault) {
		q := r.URL.Query()
		f := store.VolumeFilter{Status: volume.Status(q.Get("status")), Name: q.Get("name"), AvailabilityZone: q.Get("availability_zone")}
		opts, fault := listOptions(r)
		if fault != nil {
			return 0, nil, fault
		}
		vols, err := s.opts.Store.ListVolumes(r.Context(), scope(r), f, opts)
		if err != nil {
			return 0, nil, storeFault(err)
		}
		views := make([]any, 0, len(vols))
		for _, v := range vols {
			if detail {
				views = append(views, s.volumeView(r, v))
			} else {
				views = append(views, map[string]any{"id": v.ID, "name": v.Name, "links": links(r, "volumes", v.ID)})
			}
		}
		body := map[string]any{"volumes": views}
		if opts.Limit > 0 && len(vols) == opts.Limit {
			body["volumes_links"] = nextLinks(r, vols[len(vols)-1].ID)
		}
		return http.StatusOK, body, nil
	}
}

// listOptions reads sort (or the deprecated sort_key/sort_dir), limit (capped at 1000) and
// marker.
func listOptions(r *http.Request) (store.ListOptions, *Fault) {
	q := r.URL.Query()
	sort := q.Get("sort")
	if sort == "" && q.Get("sort_key") != "" {
		sort = q.Get("sort_key") + ":" + q.Get("sort_dir")
	}
	keys, err := store.ParseSort(strings.TrimSuffix(sort, ":"))
	if err != nil {
		return store.ListOptions{}, storeFault(err)
	}
	opts := store.ListOptions{Sort: keys, Marker: q.Get("marker"), Limit: 1000}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			return opts, faultf(http.StatusBadRequest, "limit must be a non-negative integer.")
		}
		if n > 0 {
			opts.Limit = min(n, 1000)
		}
	}
	return opts, nil
}
