// Command istiocheck checks Kubernetes YAML for Istio and the Kubernetes
// Gateway API the way a cluster would: every object against the CRD
// schema Istio or the Gateway API ships for its kind
// (OpenAPI validation, unknown fields as with kubectl --validate=strict,
// and the schema's CEL rules, with the API server's own code from
// k8s.io/apiextensions-apiserver), its metadata against Kubernetes' name
// and label rules, its decoding into istio.io/client-go's or
// sigs.k8s.io/gateway-api's type, and Istio's semantic validation (istio.io/istio's pkg/config/validation, the
// code behind istioctl validate and Istio's admission webhook).
//
// It is a module of its own so that none of this is linked into wslb: the
// wslb tests build and run it.
//
//	istiocheck -crds customresourcedefinitions.gen.yaml [-crds DIR]... FILE.yaml...
//
// -crds names a file of CRDs or a directory of them (the Gateway API's
// config/crd/standard); give it once per source.
//
// It prints one line per problem, FILE: KIND/NAME: problem, and one per
// warning of Istio's validation, and exits 1 when there is any problem, 2
// when it cannot run.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	netv1 "istio.io/client-go/pkg/apis/networking/v1"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/schema/collections"
	"istio.io/istio/pkg/config/validation"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// version is one served version of one CRD, ready to validate.
type version struct {
	structural *structuralschema.Structural
	validator  apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

func main() {
	var crds crdFlag
	flag.Var(&crds, "crds", "a CRD file (istio.io/api's kubernetes/customresourcedefinitions.gen.yaml) or a directory of them (sigs.k8s.io/gateway-api's config/crd/standard); repeatable")
	flag.Parse()
	if len(crds) == 0 || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: istiocheck -crds CRDS.yaml [-crds DIR]... FILE.yaml...")
		os.Exit(2)
	}
	schemas := map[string]*version{}
	for _, path := range crds {
		if err := loadCRDs(path, schemas); err != nil {
			fmt.Fprintln(os.Stderr, "istiocheck:", err)
			os.Exit(2)
		}
	}
	problems, warnings, checked := 0, 0, 0
	for _, path := range flag.Args() {
		n, errs, warns, err := checkFile(path, schemas)
		if err != nil {
			fmt.Fprintln(os.Stderr, "istiocheck:", err)
			os.Exit(2)
		}
		checked += n
		for _, e := range errs {
			fmt.Printf("%s: %s\n", path, e)
		}
		for _, w := range warns {
			fmt.Printf("%s: warning: %s\n", path, w)
		}
		problems += len(errs)
		warnings += len(warns)
	}
	fmt.Printf("%d objects checked, %d problems, %d warnings\n", checked, problems, warnings)
	if problems > 0 {
		os.Exit(1)
	}
}

// crdFlag is the -crds flag, given once per CRD file or directory.
type crdFlag []string

func (c *crdFlag) String() string     { return strings.Join(*c, ",") }
func (c *crdFlag) Set(v string) error { *c = append(*c, v); return nil }

// loadCRDs adds every CRD of the file, or of the directory's *.yaml
// files, to out, keyed "group/version, Kind=kind" as the objects'
// apiVersion and kind spell it.
func loadCRDs(path string, out map[string]*version) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		files, err := filepath.Glob(filepath.Join(path, "*.yaml"))
		if err != nil {
			return err
		}
		n := len(out)
		for _, f := range files {
			if err := loadCRDFile(f, out, false); err != nil {
				return err
			}
		}
		if len(out) == n {
			return fmt.Errorf("%s: no CustomResourceDefinition", path)
		}
		return nil
	}
	return loadCRDFile(path, out, true)
}

func loadCRDFile(path string, out map[string]*version, need bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	n := len(out)
	r := utilyaml.NewYAMLReader(bufioReader(b))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if !v.Served || v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			var internal apiextensions.JSONSchemaProps
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, &internal, nil); err != nil {
				return fmt.Errorf("%s %s: %w", crd.Name, v.Name, err)
			}
			s, err := structuralschema.NewStructural(&internal)
			if err != nil {
				return fmt.Errorf("%s %s: not a structural schema: %w", crd.Name, v.Name, err)
			}
			validator, _, err := apiservervalidation.NewSchemaValidator(&internal)
			if err != nil {
				return fmt.Errorf("%s %s: %w", crd.Name, v.Name, err)
			}
			key := crd.Spec.Group + "/" + v.Name + ", Kind=" + crd.Spec.Names.Kind
			if _, dup := out[key]; dup {
				return fmt.Errorf("%s: %s is defined twice", path, key)
			}
			out[key] = &version{
				structural: s,
				validator:  validator,
				cel:        cel.NewValidator(s, true, celconfig.PerCallLimit),
			}
		}
	}
	if need && len(out) == n {
		return fmt.Errorf("%s: no CustomResourceDefinition", path)
	}
	return nil
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// checkFile checks every object of a multi-document YAML file.
func checkFile(path string, schemas map[string]*version) (n int, problems, warnings []string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, nil, err
	}
	r := utilyaml.NewYAMLReader(bufioReader(b))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("document %d: %v", n+1, err))
			continue
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue // a comment or an empty document
		}
		n++
		p, w := checkObject(j, schemas)
		problems = append(problems, p...)
		warnings = append(warnings, w...)
	}
	return n, problems, warnings, nil
}

func checkObject(j []byte, schemas map[string]*version) (problems, warnings []string) {
	// As the API server decodes: integers as int64, not float64.
	var obj map[string]any
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		return []string{err.Error()}, nil
	}
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	where := kind + "/" + name
	v, ok := schemas[apiVersion+", Kind="+kind]
	if !ok {
		return []string{fmt.Sprintf("%s: no CRD serves apiVersion %q kind %q", where, apiVersion, kind)}, nil
	}
	var errs field.ErrorList
	for _, msg := range metavalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), name, msg))
	}
	labels := map[string]string{}
	if l, ok := meta["labels"].(map[string]any); ok {
		for k, v := range l {
			s, _ := v.(string)
			labels[k] = s
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(labels, field.NewPath("metadata", "labels"))...)
	// The API server fills in the schema's defaults (a parentRef's group
	// and kind, for one) before it validates: CEL rules read them.
	defaulting.Default(obj, v.structural)
	errs = append(errs, apiservervalidation.ValidateCustomResource(nil, obj, v.validator)...)
	celErrs, _ := v.cel.Validate(context.Background(), nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	errs = append(errs, celErrs...)

	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s: %v", where, e))
	}
	// Strict field validation, as kubectl --validate=strict: a field the
	// schema does not know would be dropped silently by the API server.
	pruned := deepCopy(obj)
	for _, p := range pruning.PruneWithOptions(pruned, v.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}) {
		out = append(out, fmt.Sprintf("%s: unknown field %q", where, p))
	}
	if err := decodeTyped(kind, j); err != nil {
		out = append(out, fmt.Sprintf("%s: istio.io/client-go: %v", where, err))
	}
	warn, err := semantic(apiVersion, kind, name, labels, obj["spec"])
	if err != nil {
		out = append(out, fmt.Sprintf("%s: istio validation: %v", where, err))
	}
	if warn != nil {
		warnings = append(warnings, fmt.Sprintf("%s: istio validation: %v", where, warn))
	}
	return out, warnings
}

// semantic runs Istio's own validation of the object, as istioctl
// validate does, in the namespace "default". For the Gateway API's kinds
// that is decoding the spec strictly into the types Istio is built with:
// Istio leaves their validation to the CRD schemas.
func semantic(apiVersion, kind, name string, labels map[string]string, spec any) (validation.Warning, error) {
	group, ver, _ := strings.Cut(apiVersion, "/")
	s, ok := collections.PilotGatewayAPI().FindByGroupVersionAliasesKind(config.GroupVersionKind{Group: group, Version: ver, Kind: kind})
	if !ok {
		return nil, fmt.Errorf("no Istio schema for %s %s", apiVersion, kind)
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	out, err := s.NewInstance()
	if err != nil {
		return nil, err
	}
	if err := config.ApplyJSONStrict(out, string(js)); err != nil {
		return nil, err
	}
	return s.ValidateConfig(config.Config{
		Meta: config.Meta{GroupVersionKind: s.GroupVersionKind(), Name: name, Namespace: "default", Labels: labels},
		Spec: out,
	})
}

// decodeTyped decodes the object into istio.io/client-go's or
// sigs.k8s.io/gateway-api's type for its kind, refusing unknown fields,
// and checks its group and version.
func decodeTyped(kind string, j []byte) error {
	var tm struct {
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(j, &tm); err != nil {
		return err
	}
	var target any
	want := netv1.SchemeGroupVersion.String()
	switch {
	case strings.HasPrefix(tm.APIVersion, gatewayv1.GroupName+"/"):
		want = gatewayv1.GroupVersion.String()
		switch kind {
		case "Gateway":
			target = &gatewayv1.Gateway{}
		case "HTTPRoute":
			target = &gatewayv1.HTTPRoute{}
		}
	default:
		switch kind {
		case "Gateway":
			target = &netv1.Gateway{}
		case "VirtualService":
			target = &netv1.VirtualService{}
		case "DestinationRule":
			target = &netv1.DestinationRule{}
		case "ServiceEntry":
			target = &netv1.ServiceEntry{}
		case "WorkloadEntry":
			target = &netv1.WorkloadEntry{}
		}
	}
	if target == nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.DisallowUnknownFields()
	if err := d.Decode(target); err != nil {
		return err
	}
	if tm.APIVersion != want {
		return fmt.Errorf("apiVersion %q, want %q", tm.APIVersion, want)
	}
	return nil
}

func deepCopy(obj map[string]any) map[string]any {
	b, _ := json.Marshal(obj)
	var out map[string]any
	_ = utiljson.Unmarshal(b, &out)
	return out
}
