package istio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes resource: the envelope of the API types
// (TypeMeta, the ObjectMeta fields wslb sets, and the spec) without
// linking Kubernetes' apimachinery into wslb for four fields. The Istio
// and Gateway API targets both write their objects through it.
type Object struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	// Spec is an Istio API message or any other type encoding/json writes.
	Spec any `json:"spec"`
}

// Metadata is the part of ObjectMeta wslb sets.
type Metadata struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// NewObject is an object of apiVersion and kind named name, labelled as
// wslb's.
func NewObject(apiVersion, kind, name string, spec any) Object {
	return Object{
		APIVersion: apiVersion, Kind: kind, Spec: spec,
		Metadata: Metadata{Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "wslb"}},
	}
}

// Stream is a YAML stream of the objects, each after a "---" line, below
// the comment lines of header.
func Stream(header []string, objs []Object) ([]byte, error) {
	var out bytes.Buffer
	for _, h := range header {
		out.WriteString("# " + h + "\n")
	}
	for _, o := range objs {
		doc, err := Marshal(o)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(doc)
	}
	return out.Bytes(), nil
}

// Marshal turns an object into YAML with sorted keys.
func Marshal(o Object) ([]byte, error) {
	j, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode %s %s: %w", o.Kind, o.Metadata.Name, err)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", o.Kind, o.Metadata.Name, err)
	}
	s, ok := m["spec"].(map[string]any)
	if pm, isProto := o.Spec.(proto.Message); ok && isProto {
		if err := integers(s, pm.ProtoReflect().Descriptor()); err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", o.Kind, o.Metadata.Name, err)
		}
	}
	return yaml.Marshal(m)
}

// integers undoes the one place where protobuf's JSON mapping and
// Kubernetes disagree: protobuf writes 64-bit integers as strings
// ("1024"), the CRD schemas declare them integers, and the API server
// refuses a string. It walks v beside the message's descriptor and turns
// every 64-bit integer field back into a number.
func integers(v map[string]any, md protoreflect.MessageDescriptor) error {
	for k, val := range v {
		fd := md.Fields().ByJSONName(k)
		if fd == nil {
			continue
		}
		switch {
		case fd.IsMap():
			if mm, ok := val.(map[string]any); ok {
				for mk, mv := range mm {
					n, err := integer(mv, fd.MapValue())
					if err != nil {
						return fmt.Errorf("%s.%s: %w", k, mk, err)
					}
					mm[mk] = n
				}
			}
		case fd.IsList():
			if l, ok := val.([]any); ok {
				for i, e := range l {
					n, err := integer(e, fd)
					if err != nil {
						return fmt.Errorf("%s[%d]: %w", k, i, err)
					}
					l[i] = n
				}
			}
		default:
			n, err := integer(val, fd)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			v[k] = n
		}
	}
	return nil
}

// integer is one value of field fd with its 64-bit integers as numbers.
func integer(val any, fd protoreflect.FieldDescriptor) (any, error) {
	switch fd.Kind() {
	case protoreflect.Int64Kind, protoreflect.Uint64Kind, protoreflect.Sint64Kind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return number(val)
	case protoreflect.MessageKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
			return number(val)
		}
		if m, ok := val.(map[string]any); ok {
			return m, integers(m, fd.Message())
		}
	}
	return val, nil
}

func number(val any) (any, error) {
	s, ok := val.(string)
	if !ok {
		return val, nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
	}
	return json.Number(s), nil
}
