package sdk

import "github.com/hashicorp/go-hclog"

// Option changes how a driver is served (Serve, Pair, Direct).
type Option func(*options)

type options struct {
	busyImmediately bool
	logger          hclog.Logger
}

func buildOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = hclog.NewNullLogger()
	}
	return o
}

// WithBusyImmediately makes a call on an ID that another call holds fail at once with a Busy
// error (CSI's ABORTED) instead of waiting for it, bounded by the caller's context.
func WithBusyImmediately() Option {
	return func(o *options) { o.busyImmediately = true }
}

// WithLogger sets the driver's logger for Pair and Direct; Serve builds its own on stderr.
func WithLogger(l hclog.Logger) Option {
	return func(o *options) { o.logger = l }
}
