package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dnsmon/dnsmon/builder"
	"github.com/dnsmon/dnsmon/builder/publish"
	"github.com/dnsmon/dnsmon/cmd/internal/options"
	"github.com/dnsmon/dnsmon/kmod/modsign"
	"github.com/dnsmon/dnsmon/kmod/signature"
)

// runBuild builds the module for every selected target of kernels.yaml in
// containers and publishes what is not published yet.
func runBuild(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	var o options.FarmBuild
	if err := parseFlags("build", stderr, args, &o, options.AddFarmBuildFlags); err != nil {
		return err
	}
	pub, closePub, err := openPublisher(ctx, &o, stderr)
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	defer closePub()
	farmOpts := []builder.FarmOption{builder.WithJobs(o.Jobs), builder.WithProgress(stderr, isTerminal(stderr))}
	if o.LogDir != "" {
		farmOpts = append(farmOpts, builder.WithLogDir(o.LogDir))
	}
	bopts := []builder.Option{builder.WithLog(stderr)}
	signing := "modules are not signed (no --module-key): they load only where module signatures are not enforced (no Secure Boot, lockdown or module.sig_enforce)"
	if o.ModuleKey != "" {
		pair, err := modsign.LoadKeyPair(o.ModuleKey, o.ModuleCert)
		if err != nil {
			return fmt.Errorf("build: --module-key/--module-cert: %w (dnsmon-farm keygen --module-signing makes them)", err)
		}
		bopts = append(bopts, builder.WithModuleSigner(pair))
		signing = fmt.Sprintf("modules signed for Secure Boot with %q (certificate %s)", modsign.KeyDescription(pair.Cert), modsign.Fingerprint(pair.Cert))
	}
	_, err = builder.BuildMatrix(ctx, builder.MatrixBuild{
		File: o.File, Only: o.OnlyRE, RunnerArch: o.RunnerArch, Shard: o.ShardIndex, Shards: o.ShardCount,
		Publisher: pub, Options: bopts,
		FarmOptions: farmOpts, Summary: stdout,
	})
	fmt.Fprintln(stdout, signing)
	return err
}

// openPublisher opens the --to destination.
func openPublisher(ctx context.Context, o *options.FarmBuild, stderr io.Writer) (builder.Publisher, func(), error) {
	if dir, ok := strings.CutPrefix(o.To, options.DirDestPrefix); ok {
		p, err := builder.NewDirPublisher(dir)
		return p, func() {}, err
	}
	if o.To == options.CacheDest {
		p, err := builder.ModuleCache()
		return p, func() {}, err
	}
	popts := []publish.Option{publish.WithLogger(stderr)}
	if o.NoIndex {
		popts = append(popts, publish.WithoutIndex())
	}
	if t := o.Expires.Time(time.Now()); !t.IsZero() {
		popts = append(popts, publish.WithExpires(t))
	}
	if o.Unsigned {
		popts = append(popts, publish.WithoutSigning())
	} else {
		k, err := signature.LoadPrivateKey(o.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("--key: %w (dnsmon-farm keygen makes one)", err)
		}
		popts = append(popts, publish.WithSigningKey(k))
	}
	p, err := publish.New(ctx, o.To, popts...)
	if err != nil {
		return nil, nil, err
	}
	return p, func() { p.Close() }, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
