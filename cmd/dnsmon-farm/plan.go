package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/matrix"
)

// runPlan prints the shard matrix of kernels.yaml as JSON, for a GitHub
// Actions `strategy.matrix`: per shard, the architecture of the runner it
// needs and its --shard.
func runPlan(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var o options.FarmPlan
	if err := parseFlags("plan", stderr, args, &o, options.AddFarmPlanFlags); err != nil {
		return err
	}
	r, err := matrix.DefaultResolver()
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	plan, err := matrix.PlanFile(ctx, o.File, o.OnlyRE, o.Shards, r, builder.RunnerArch)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(plan)
}
