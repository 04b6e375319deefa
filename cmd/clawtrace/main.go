// Command clawtrace turns what OpenClaw agents leave on disk into traces and
// cost numbers. See the README and docs/ for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// softMemoryLimit keeps the heap, and so the RSS, of a run over any corpus
// under about 200 MB: memory is bounded by the largest session and the
// output buffers, and this tells the GC to collect before the heap grows
// past that. GOMEMLIMIT overrides it.
const softMemoryLimit = 160 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
