package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/matrix"
)

// runPlan prints the shard matrix of kernels.yaml as JSON, for a GitHub
// Actions `strategy.matrix`.
func runPlan(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("dnsmon-farm plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options.FarmPlan
	options.AddFarmPlanFlags(fs, &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("plan: unexpected arguments %q", fs.Args())
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	r, err := matrix.DefaultResolver()
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	plan, err := matrix.PlanFile(ctx, o.File, o.OnlyRE, o.Shards, r)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(plan)
}
