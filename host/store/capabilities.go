package store

import (
	"encoding/json"
	"fmt"

	"github.com/kilnstorage/kiln/sdk"
)

// capabilities is the JSON of what a pool row keeps beside its byte columns. Its field names
// are the stored format: change them only with a migration.
type capabilities struct {
	CapacityUnknown     bool                `json:"capacity_unknown,omitempty"`
	CapacityInfinite    bool                `json:"capacity_infinite,omitempty"`
	Thin                bool                `json:"thin,omitempty"`
	Thick               bool                `json:"thick,omitempty"`
	MaxOversubscription float64             `json:"max_oversubscription,omitempty"`
	MinVolumeBytes      int64               `json:"min_volume_bytes,omitempty"`
	MaxVolumeBytes      int64               `json:"max_volume_bytes,omitempty"`
	GranularityBytes    int64               `json:"granularity_bytes,omitempty"`
	Features            *sdk.FeatureSet     `json:"features,omitempty"`
	Resources           []resource          `json:"resources,omitempty"`
	Attributes          map[string]attrJSON `json:"attributes,omitempty"`
	Backend             BackendInfo         `json:"backend"`
}

// BackendInfo is what a backend reports, or its operator configures, for all of its pools
// beside the pools' own reports: what Cinder's capability reports carry at the top level.
type BackendInfo struct {
	VolumeBackendName string `json:"volume_backend_name,omitempty"`
	VendorName        string `json:"vendor_name,omitempty"`
	DriverVersion     string `json:"driver_version,omitempty"`
	FilterFunction    string `json:"filter_function,omitempty"`
	GoodnessFunction  string `json:"goodness_function,omitempty"`
}

type resource struct {
	Name  string `json:"name"`
	Total int64  `json:"total"`
	Free  int64  `json:"free"`
}

// attrJSON is a typed attribute: its kind and the one value field of that kind.
type attrJSON struct {
	Kind   string  `json:"kind"`
	String string  `json:"string,omitempty"`
	Int    int64   `json:"int,omitempty"`
	Float  float64 `json:"float,omitempty"`
	Bool   bool    `json:"bool,omitempty"`
	Unit   string  `json:"unit,omitempty"`
}

var attrKinds = map[sdk.AttrKind]string{sdk.AttrString: "string", sdk.AttrInt: "int",
	sdk.AttrFloat: "float", sdk.AttrBool: "bool"}

func encodeCapabilities(p sdk.Pool, info BackendInfo) string {
	c := capabilities{Backend: info, CapacityUnknown: p.CapacityUnknown, CapacityInfinite: p.CapacityInfinite,
		Thin: p.Thin, Thick: p.Thick, MaxOversubscription: p.MaxOversubscription,
		MinVolumeBytes: p.MinVolumeBytes, MaxVolumeBytes: p.MaxVolumeBytes,
		GranularityBytes: p.GranularityBytes, Features: p.Features}
	for _, r := range p.Resources {
		c.Resources = append(c.Resources, resource(r))
	}
	if len(p.Attributes) > 0 {
		c.Attributes = map[string]attrJSON{}
	}
	for k, a := range p.Attributes {
		c.Attributes[k] = attrJSON{Kind: attrKinds[a.Kind], String: a.Str, Int: a.Int, Float: a.Float,
			Bool: a.Bool, Unit: a.Unit}
	}
	return encodeJSON(c)
}

func decodeCapabilities(s string, p *sdk.Pool, info *BackendInfo) error {
	var c capabilities
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return fmt.Errorf("decode capabilities: %w", err)
	}
	*info = c.Backend
	p.CapacityUnknown, p.CapacityInfinite, p.Thin, p.Thick = c.CapacityUnknown, c.CapacityInfinite, c.Thin, c.Thick
	p.MaxOversubscription, p.Features = c.MaxOversubscription, c.Features
	p.MinVolumeBytes, p.MaxVolumeBytes, p.GranularityBytes = c.MinVolumeBytes, c.MaxVolumeBytes, c.GranularityBytes
	for _, r := range c.Resources {
		p.Resources = append(p.Resources, sdk.Resource(r))
	}
	for k, a := range c.Attributes {
		if p.Attributes == nil {
			p.Attributes = map[string]sdk.Attribute{}
		}
		kind := sdk.AttrKind(0)
		for kk, name := range attrKinds {
			if name == a.Kind {
				kind = kk
			}
		}
		p.Attributes[k] = sdk.Attribute{Kind: kind, Str: a.String, Int: a.Int, Float: a.Float, Bool: a.Bool, Unit: a.Unit}
	}
	return nil
}
