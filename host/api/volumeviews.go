package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kilnstorage/kiln/host/store"
	"github.com/kilnstorage/kiln/host/volume"
)

const timeFormat = "2006-01-02T15:04:05.000000"

// volumeView is Cinder's detailed volume; admins also see where it lives and, under Kiln's own
// keys, its scheduling attempts and last error.
func (s *Server) volumeView(r *http.Request, v store.Volume) map[string]any {
	meta := v.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	view := map[string]any{
		"id": v.ID, "name": v.Name, "description": v.Description, "size": v.SizeBytes / gibBytes,
		"status": string(v.Status), "availability_zone": v.AvailabilityZone,
		"volume_type": s.typeName(r, v.VolumeTypeID), "metadata": meta,
		"snapshot_id": nilIfEmpty(v.SnapshotID), "source_volid": nilIfEmpty(v.SourceVolumeID),
		"bootable": "false", "encrypted": false, "multiattach": false, "attachments": []any{},
		"replication_status": "disabled", "migration_status": nil, "consistencygroup_id": nil,
		"user_id": v.UserID, "os-vol-tenant-attr:tenant_id": v.ProjectID,
		"created_at": v.CreatedAt.UTC().Format(timeFormat), "updated_at": nilTime(v),
		"links": links(r, "volumes", v.ID),
	}
	if identity(r.Context()).Admin {
		host := any(nil)
		if v.Backend != "" {
			host = v.Backend + "#" + v.Pool
		}
		view["os-vol-host-attr:host"] = host
		view["os-vol-kiln-attr:attempts"] = v.Attempts
		view["os-vol-kiln-attr:attempted"] = v.Attempted
		view["os-vol-kiln-attr:fault"] = nilIfEmpty(v.Fault)
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
