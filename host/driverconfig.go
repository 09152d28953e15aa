package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"github.com/kilnstorage/kiln/sdk"
)

// A backend's config block is decoded here, against the schema its driver describes, so that a
// mistake is reported with its file and line; the driver gets JSON, which the SDK decodes
// strictly once more.

// driverPath resolves a backend's driver: a path as given, or for a bare name kiln-driver-NAME
// next to the kiln binary, then on PATH.
func driverPath(driver string) (string, error) {
	if strings.ContainsRune(driver, filepath.Separator) {
		return driver, nil
	}
	name := "kiln-driver-" + driver
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("driver %q: no %s next to kiln or on PATH", driver, name)
	}
	return p, nil
}

// describe runs `DRIVER describe` for the driver's name, capabilities and schema.
func describe(path string) (sdk.Info, error) {
	out, err := exec.Command(path, "describe").Output()
	if err != nil {
		return sdk.Info{}, fmt.Errorf("%s describe: %w", path, err)
	}
	var info sdk.Info
	if err := json.Unmarshal(out, &info); err != nil {
		return sdk.Info{}, fmt.Errorf("%s describe: %w", path, err)
	}
	return info, nil
}

// driverConfigJSON decodes a config block against schema into the JSON object the driver takes.
func driverConfigJSON(body hcl.Body, schema []sdk.ConfigField) ([]byte, error) {
	spec, err := objectSpec(schema, "")
	if err != nil {
		return nil, err
	}
	val, diags := hcldec.Decode(body, spec, nil)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	return json.Marshal(withoutEmptyBlocks(plain(val), spec))
}

// withoutEmptyBlocks drops block lists that had no block, as if never written, so that the
// driver's defaults apply to them.
func withoutEmptyBlocks(v any, spec hcldec.ObjectSpec) any {
	obj, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for name, s := range spec {
		switch s := s.(type) {
		case *hcldec.BlockListSpec:
			items, _ := obj[name].([]any)
			if len(items) == 0 {
				delete(obj, name)
				continue
			}
			for i := range items {
				items[i] = withoutEmptyBlocks(items[i], s.Nested.(hcldec.ObjectSpec))
			}
		case *hcldec.BlockSpec:
			if nested, ok := obj[name]; ok {
				obj[name] = withoutEmptyBlocks(nested, s.Nested.(hcldec.ObjectSpec))
			}
		}
	}
	return obj
}

// objectSpec builds the spec of the fields directly under prefix.
func objectSpec(schema []sdk.ConfigField, prefix string) (hcldec.ObjectSpec, error) {
	spec := hcldec.ObjectSpec{}
	for _, f := range schema {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || strings.Contains(name, ".") {
			continue
		}
		s, err := fieldSpec(schema, f, name)
		if err != nil {
			return nil, err
		}
		spec[name] = s
	}
	return spec, nil
}

func fieldSpec(schema []sdk.ConfigField, f sdk.ConfigField, name string) (hcldec.Spec, error) {
	switch f.Type {
	case "block", "list(block)":
		nested, err := objectSpec(schema, f.Name+".")
		if err != nil {
			return nil, err
		}
		if f.Type == "block" {
			return &hcldec.BlockSpec{TypeName: name, Nested: nested, Required: f.Required}, nil
		}
		return &hcldec.BlockListSpec{TypeName: name, Nested: nested}, nil
	}
	t, err := ctyType(f.Type)
	if err != nil {
		return nil, fmt.Errorf("config field %s: %w", f.Name, err)
	}
	return &hcldec.AttrSpec{Name: name, Type: t, Required: f.Required}, nil
}

// ctyType maps a schema type to the HCL value type that accepts it.
func ctyType(typ string) (cty.Type, error) {
	switch typ {
	case "string", "duration":
		return cty.String, nil
	case "bool":
		return cty.Bool, nil
	case "int", "float":
		return cty.Number, nil
	case "bytes":
		return cty.DynamicPseudoType, nil // 4096 or "4GiB"
	case "map(string)":
		return cty.Map(cty.String), nil
	}
	if elem, ok := strings.CutPrefix(typ, "list("); ok {
		t, err := ctyType(strings.TrimSuffix(elem, ")"))
		return cty.List(t), err
	}
	return cty.NilType, fmt.Errorf("unknown schema type %q", typ)
}

// plain turns a decoded value into JSON-ready Go values, leaving out what was not written so
// that the driver's defaults apply.
func plain(v cty.Value) any {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		return number(v.AsBigFloat())
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for k, e := range v.AsValueMap() {
			if x := plain(e); x != nil {
				out[k] = x
			}
		}
		return out
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		out := []any{}
		for _, e := range v.AsValueSlice() {
			out = append(out, plain(e))
		}
		return out
	}
	return nil
}

func number(f *big.Float) any {
	if i, acc := f.Int64(); acc == big.Exact {
		return i
	}
	x, _ := f.Float64()
	return x
}
