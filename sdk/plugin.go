package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"

	"github.com/hashicorp/go-hclog"
)

// Version is the SDK's version, reported by GetInfo.
const Version = "0.1.0"

// ProtocolVersion is the go-plugin protocol version: the major of kiln.driver.v1.
const ProtocolVersion = 1

// protocolMinor counts additive changes within ProtocolVersion.
const protocolMinor = 0

// Plugin is what a driver's main passes to Serve. C is the driver's configuration struct: its
// fields are the schema (see DecodeConfig for the tags), and a Validate() error method on C is
// called after decoding. D is the driver's type; the optional interfaces it implements are the
// capabilities the driver advertises, even before it is configured.
type Plugin[C any, D Driver] struct {
	// Name is the driver's name, matching ^[a-z][a-z0-9_-]{0,31}$.
	Name string
	// Version is the driver's semver.
	Version string
	// New builds the driver from its decoded, defaulted and validated configuration. It is
	// called on every Configure; the driver it returns serves every later call.
	New func(ctx context.Context, cfg C, env Env) (D, error)
}

// Env is what a driver learns about its surroundings when it is built.
type Env struct {
	// Backend is the operator's name for this backend, e.g. "lvm-ssd".
	Backend string
	// Logger is named and leveled by the host; it writes hclog JSON to stderr.
	Logger hclog.Logger
	// HostVersion is the host's version; empty in tests.
	HostVersion string
}

// Info describes a driver binary.
type Info struct {
	Name          string        `json:"name"`
	Version       string        `json:"version"`
	SDKVersion    string        `json:"sdk_version"`
	ProtocolMinor int           `json:"protocol_minor"`
	Capabilities  Capabilities  `json:"capabilities"`
	Schema        []ConfigField `json:"config_schema"`
}

// Factory is a Plugin with its configuration type erased; every Plugin[C] is one. Hosts and
// test kits pass it to Direct and Pair.
type Factory interface {
	factory() factory
}

// factory is what the server needs of a Plugin: its description and a constructor from JSON.
type factory struct {
	info Info
	// build decodes raw strictly, validates it and builds the driver; echo is the effective
	// configuration with secrets redacted.
	build func(ctx context.Context, raw []byte, env Env) (d Driver, echo []byte, err error)
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

func (p Plugin[C, D]) factory() factory {
	schema, err := SchemaOf[C]()
	if err != nil {
		panic(fmt.Sprintf("kiln sdk: driver %s: config struct: %v", p.Name, err))
	}
	info := Info{Name: p.Name, Version: p.Version, SDKVersion: Version,
		ProtocolMinor: protocolMinor, Schema: schema, Capabilities: CapabilitiesOf(*new(D))}
	build := func(ctx context.Context, raw []byte, env Env) (Driver, []byte, error) {
		cfg, err := DecodeConfig[C](raw)
		if err != nil {
			return nil, nil, err
		}
		d, err := p.New(ctx, cfg, env)
		if err != nil {
			return nil, nil, err
		}
		if isNil(d) {
			return nil, nil, ErrorInternal(fmt.Errorf("driver %s: New returned a nil driver", p.Name))
		}
		echo, err := json.Marshal(Redact(cfg))
		if err != nil {
			return nil, nil, ErrorInternal(err)
		}
		return d, echo, nil
	}
	return factory{info: info, build: build}
}

// validate reports a Plugin that cannot be served.
func (f factory) validate() error {
	if !namePattern.MatchString(f.info.Name) {
		return fmt.Errorf("kiln sdk: driver name %q does not match %s", f.info.Name, namePattern)
	}
	return nil
}

// isNil tells whether a driver value is nil, including a typed nil pointer.
func isNil(d any) bool {
	if d == nil {
		return true
	}
	switch v := reflect.ValueOf(d); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}
