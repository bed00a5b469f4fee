//go:build ignore

// Regenerates expected.txt from cases.json with kube-state-metrics v2.20.0 itself. It must be
// built inside a copy of the kube-state-metrics module (its go.sum pins the dependencies):
//   cp -r $(go env GOMODCACHE)/k8s.io/kube-state-metrics/v2@v2.20.0 /tmp/ksm && chmod -R u+w /tmp/ksm
//   mkdir /tmp/ksm/cmd/crsgolden && cp generate.go /tmp/ksm/cmd/crsgolden/main.go
//   (cd /tmp/ksm && go build -o /tmp/crsgolden ./cmd/crsgolden)
//   /tmp/crsgolden cases.json > expected.txt

// Runs kube-state-metrics' own custom-resource-state code on a corpus of cases and prints
// what it generates, for kubestate's golden test.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/kube-state-metrics/v2/pkg/customresourcestate"
	"k8s.io/kube-state-metrics/v2/pkg/metric"
	generator "k8s.io/kube-state-metrics/v2/pkg/metric_generator"
	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

type Case struct {
	Name    string            `json:"name"`
	Config  string            `json:"config"`
	Objects []json.RawMessage `json:"objects"`
}

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	var cases []Case
	if err := json.Unmarshal(data, &cases); err != nil {
		panic(err)
	}
	for _, c := range cases {
		fmt.Printf("== %s\n", c.Name)
		var m customresourcestate.Metrics
		if err := yaml.NewDecoder(strings.NewReader(c.Config)).Decode(&m); err != nil {
			fmt.Printf("ERROR decode\n")
			continue
		}
		for i := range m.Spec.Resources {
			r := m.Spec.Resources[i]
			for j := range r.Metrics {
				r.Metrics[j].Each.Type = metric.Type(strings.ToLower(string(r.Metrics[j].Each.Type)))
			}
			r.ResourcePlural = "things"
			f, err := customresourcestate.NewCustomResourceMetrics(r)
			if err != nil {
				fmt.Printf("ERROR compile\n")
				continue
			}
			gens := f.MetricFamilyGenerators()
			for _, h := range generator.ExtractMetricFamilyHeaders(gens) {
				fmt.Print(h)
			}
			for k, o := range c.Objects {
				u := &unstructured.Unstructured{}
				if err := u.UnmarshalJSON(o); err != nil {
					fmt.Printf("-- object %d: ERROR\n", k)
					continue
				}
				fmt.Printf("-- object %d\n", k)
				for _, g := range gens {
					fmt.Print(string(g.Generate(u).ByteSlice()))
				}
			}
		}
	}
}
