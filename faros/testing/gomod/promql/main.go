// Command promql checks PromQL expressions with Prometheus's own parser.
//
// It reads a JSON array of expressions on stdin and writes a JSON array with, for each, the
// parse error (empty when valid) and the metric names its selectors name.
package main

import (
	"encoding/json"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

type result struct {
	Error   string   `json:"error"`
	Metrics []string `json:"metrics"`
}

func main() {
	var exprs []string
	if err := json.NewDecoder(os.Stdin).Decode(&exprs); err != nil {
		os.Stderr.WriteString("promql: stdin must be a JSON array of strings: " + err.Error() + "\n")
		os.Exit(2)
	}
	results := make([]result, 0, len(exprs))
	for _, text := range exprs {
		results = append(results, check(text))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(1)
	}
}

func check(text string) result {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(text)
	if err != nil {
		return result{Error: err.Error(), Metrics: []string{}}
	}
	names := map[string]bool{}
	for _, selector := range parser.ExtractSelectors(expr) {
		for _, matcher := range selector {
			if matcher.Name == labels.MetricName && matcher.Type == labels.MatchEqual {
				names[matcher.Value] = true
			}
		}
	}
	metrics := make([]string, 0, len(names))
	for name := range names {
		metrics = append(metrics, name)
	}
	sort.Strings(metrics)
	return result{Metrics: metrics}
}
