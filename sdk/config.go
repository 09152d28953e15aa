package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ConfigField describes one field of a driver's configuration struct.
type ConfigField struct {
	// Name is the key in the backend's config block; nested fields are joined with dots.
	Name string `json:"name"`
	// Type is string, bool, int, float, duration, bytes, list(T), map(string), block or
	// list(block).
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
	Default  string `json:"default,omitempty"`
	Doc      string `json:"doc,omitempty"`
	Secret   bool   `json:"secret,omitempty"`
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

type fieldSpec struct {
	index    int
	key      string
	opts     []string
	required bool
	secret   bool
	def      string
	hasDef   bool
	doc      string
}

func fieldsOf(t reflect.Type) []fieldSpec {
	var out []fieldSpec
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("kiln")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = snakeCase(f.Name)
		}
		def, hasDef := f.Tag.Lookup("default")
		var optList []string
		if opts != "" {
			optList = strings.Split(opts, ",")
		}
		out = append(out, fieldSpec{
			index: i, key: name, opts: optList, def: def, hasDef: hasDef, doc: f.Tag.Get("doc"),
			required: slices.Contains(optList, "required"), secret: slices.Contains(optList, "secret"),
		})
	}
	return out
}

func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsUpper(rune(s[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SchemaOf describes the configuration struct C, and rejects a struct whose tags are wrong: an
// unknown option, a key used twice, a required field with a default, a default that does not
// decode, or a type that contains itself.
func SchemaOf[C any]() ([]ConfigField, error) {
	t := reflect.TypeFor[C]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("config type %s is not a struct", t)
	}
	return schemaOf(t, "", map[reflect.Type]bool{})
}

func schemaOf(t reflect.Type, prefix string, seen map[reflect.Type]bool) ([]ConfigField, error) {
	if seen[t] {
		return nil, fmt.Errorf("%s: type %s contains itself", strings.TrimSuffix(prefix, "."), t)
	}
	seen[t] = true
	defer delete(seen, t)
	var out []ConfigField
	keys := map[string]bool{}
	for _, f := range fieldsOf(t) {
		ft := t.Field(f.index).Type
		if err := checkField(f, ft, keys); err != nil {
			return nil, fmt.Errorf("%s%s: %w", prefix, f.key, err)
		}
		typ, err := typeName(ft)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", prefix, f.key, err)
		}
		out = append(out, ConfigField{Name: prefix + f.key, Type: typ, Required: f.required,
			Default: f.def, Doc: f.doc, Secret: f.secret})
		if bt, ok := blockType(ft); ok {
			nested, err := schemaOf(bt, prefix+f.key+".", seen)
			if err != nil {
				return nil, err
			}
			out = append(out, nested...)
		}
	}
	return out, nil
}

// checkField rejects a field whose tags are wrong.
func checkField(f fieldSpec, t reflect.Type, keys map[string]bool) error {
	for _, o := range f.opts {
		if o != "required" && o != "secret" {
			return fmt.Errorf("unknown kiln tag option %q (want required or secret)", o)
		}
	}
	switch {
	case keys[f.key]:
		return fmt.Errorf("key used by two fields")
	case f.required && f.hasDef:
		return fmt.Errorf("a required field cannot have a default")
	}
	keys[f.key] = true
	if f.hasDef {
		if err := decodeDefault(f.key, f.def, reflect.New(t).Elem()); err != nil {
			return err
		}
	}
	return nil
}

// blockType returns the struct of a block field: a struct, a pointer to one, or a list of
// either.
func blockType(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t, t.Kind() == reflect.Struct && t != durationType
}

func isBlock(t reflect.Type) bool {
	_, ok := blockType(t)
	return ok
}

func typeName(t reflect.Type) (string, error) {
	switch t {
	case durationType:
		return "duration", nil
	case byteSizeType:
		return "bytes", nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct {
			return "block", nil
		}
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "bool", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int", nil
	case reflect.Float32, reflect.Float64:
		return "float", nil
	case reflect.Struct:
		return "block", nil
	case reflect.Slice:
		if isBlock(t) {
			return "list(block)", nil
		}
		elem, err := typeName(t.Elem())
		if err != nil {
			return "", err
		}
		return "list(" + elem + ")", nil
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return "map(string)", nil
		}
	}
	return "", fmt.Errorf("unsupported field type %s", t)
}

// A driver's configuration is a plain struct; each exported field is one key:
//
//	type Config struct {
//		Dir      string        `kiln:"dir,required" doc:"Directory the pool lives in."`
//		Password string        `kiln:"password,secret" doc:"Array password."`
//		Timeout  time.Duration `kiln:"timeout" default:"30s" doc:"Per-command timeout."`
//		Size     sdk.ByteSize  `kiln:"size" default:"10GiB"`
//		Pools    []PoolConfig  `kiln:"pool"`
//	}
//
// The kiln tag gives the key and the options required and secret; a field without it is keyed
// by its name in snake_case, and `kiln:"-"` skips it. Types: string, bool, integers, floats,
// time.Duration (written "30s"), ByteSize (written 4096 or "4GiB"), slices of these,
// map[string]string, nested structs, pointers to structs (an optional block: nil when absent)
// and slices of structs.
//
// DecodeConfig decodes raw (a JSON object; empty means {}) into C strictly: an unknown key, a
// value of the wrong type or a missing required key is an InvalidArgument error naming the
// key's path. Defaults from `default` tags fill absent keys, then C's Validate method, if it
// has one, is called.
func DecodeConfig[C any](raw []byte) (C, error) {
	var cfg C
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	if err := decodeStruct("config", raw, reflect.ValueOf(&cfg).Elem()); err != nil {
		return cfg, err
	}
	if v, ok := any(&cfg).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return cfg, &Error{Code: InvalidArgument, Reason: "INVALID_CONFIG",
				Message: "config: " + err.Error(), Err: err}
		}
	}
	return cfg, nil
}

func configError(path, format string, args ...any) *Error {
	return &Error{Code: InvalidArgument, Reason: "INVALID_CONFIG",
		Message: path + ": " + fmt.Sprintf(format, args...), Meta: map[string]string{"field": path}}
}

func decodeStruct(path string, raw []byte, v reflect.Value) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return configError(path, "want a block (JSON object), got %s", jsonKind(raw))
	}
	for _, f := range fieldsOf(v.Type()) {
		fp := path + "." + f.key
		val, ok := obj[f.key]
		delete(obj, f.key)
		switch {
		case ok && string(bytes.TrimSpace(val)) != "null":
			if err := decodeValue(fp, val, v.Field(f.index)); err != nil {
				return err
			}
		case f.hasDef:
			if err := decodeDefault(fp, f.def, v.Field(f.index)); err != nil {
				return err
			}
		case f.required:
			return configError(fp, "required")
		}
	}
	if len(obj) > 0 {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range obj {
				if !yield(k) {
					return
				}
			}
		})
		return configError(path+"."+keys[0], "unknown field")
	}
	return nil
}

func decodeValue(path string, raw []byte, v reflect.Value) error {
	t := v.Type()
	switch {
	case t == durationType:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return configError(path, "want a duration such as \"30s\", got %s", jsonKind(raw))
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return configError(path, "want a duration such as \"30s\": %v", err)
		}
		v.SetInt(int64(d))
		return nil
	case t == byteSizeType:
		var b ByteSize
		if err := b.UnmarshalJSON(raw); err != nil {
			return configError(path, "%v", err)
		}
		v.SetInt(int64(b))
		return nil
	case t.Kind() == reflect.Struct:
		return decodeStruct(path, raw, v)
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		block := reflect.New(t.Elem())
		if err := decodeStruct(path, raw, block.Elem()); err != nil {
			return err
		}
		v.Set(block)
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return configError(path, "want a list, got %s", jsonKind(raw))
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			if string(bytes.TrimSpace(item)) == "null" {
				return configError(fmt.Sprintf("%s[%d]", path, i), "null is not a value")
			}
			if err := decodeValue(fmt.Sprintf("%s[%d]", path, i), item, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if t.Kind() == reflect.Map {
		var m map[string]*string
		if err := json.Unmarshal(raw, &m); err != nil {
			return configError(path, "want map(string), got %s", jsonKind(raw))
		}
		for k, val := range m {
			if val == nil {
				return configError(path+"."+k, "null is not a value")
			}
		}
	}
	if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
		typ, _ := typeName(t)
		return configError(path, "want %s, got %s", typ, jsonKind(raw))
	}
	return nil
}

func decodeDefault(path, def string, v reflect.Value) error {
	raw := []byte(def)
	if v.Kind() == reflect.String || v.Type() == durationType ||
		(v.Type() == byteSizeType && !isNumber(def)) {
		raw, _ = json.Marshal(def)
	}
	if err := decodeValue(path, raw, v); err != nil {
		return fmt.Errorf("bad default tag: %w", err)
	}
	return nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func jsonKind(raw []byte) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '{':
		return "a block"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a bool"
	case 'n':
		return "null"
	}
	return "a number"
}

// Redact returns cfg as a JSON-ready map keyed like the configuration, with the values of
// secret fields replaced by "<redacted>".
func Redact(cfg any) any {
	return redact(reflect.ValueOf(cfg))
}

func redact(v reflect.Value) any {
	t := v.Type()
	switch {
	case t == durationType:
		return time.Duration(v.Int()).String()
	case t.Kind() == reflect.Struct:
		out := make(map[string]any)
		for _, f := range fieldsOf(t) {
			fv := v.Field(f.index)
			if f.secret && !fv.IsZero() {
				out[f.key] = "<redacted>"
				continue
			}
			out[f.key] = redact(fv)
		}
		return out
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct:
		if v.IsNil() {
			return nil
		}
		return redact(v.Elem())
	case t.Kind() == reflect.Slice && isBlock(t):
		out := make([]any, v.Len())
		for i := range out {
			out[i] = redact(v.Index(i))
		}
		return out
	}
	return v.Interface()
}
