// Command ferretdb-runner runs an embedded FerretDB v1.24.0 with the SQLite
// backend for local development and tests (no Docker needed).
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb`
// produces a binary that panics at start (build/version/version.txt is
// missing); the embeddable package skips that check when the main module is
// not FerretDB's own.
//
// Flags (each with an environment-variable fallback):
//
//	-listen     FERRETDB_LISTEN_ADDR   TCP listen address (default 127.0.0.1:27017)
//	-sqlite-dir FERRETDB_SQLITE_DIR    directory holding the SQLite databases (default ./data)
//	-log-level  FERRETDB_LOG_LEVEL     debug|info|warn|error (default info)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// quietHandler keeps FerretDB's log readable unless debug logging is enabled:
//   - drops the per-connection "Connection started/stopped" INFO lines (one
//     pair per client connection; chatty with driver pools and health checks);
//   - squeezes the multi-line WARN dump of every failed command ("Response
//     header: ..." + "Response message: {...}") into one truncated line.
type quietHandler struct {
	slog.Handler
}

const maxFailedCommandLog = 600

func (h *quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.Handler.Enabled(ctx, slog.LevelDebug) {
		return h.Handler.Handle(ctx, r)
	}

	switch {
	case r.Level == slog.LevelInfo && (r.Message == "Connection started" || r.Message == "Connection stopped"):
		return nil
	case r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, "Response header: "):
		return nil
	case r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, "Response message:"):
		msg := strings.Join(strings.Fields(strings.TrimPrefix(r.Message, "Response message:")), " ")
		// keep only the response document: { ..., "Document": { "ok": 0.0, "errmsg": ... } ... }
		if i := strings.Index(msg, `"Document": `); i >= 0 {
			msg = strings.TrimSuffix(strings.TrimSuffix(msg[i+len(`"Document": `):], " }, ], }"), ",")
		}
		if len(msg) > maxFailedCommandLog {
			msg = msg[:maxFailedCommandLog] + "..."
		}
		nr := slog.NewRecord(r.Time, r.Level, "command failed: "+msg, r.PC)
		r.Attrs(func(a slog.Attr) bool { nr.AddAttrs(a); return true })
		return h.Handler.Handle(ctx, nr)
	}

	return h.Handler.Handle(ctx, r)
}

func (h *quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h *quietHandler) WithGroup(name string) slog.Handler {
	return &quietHandler{Handler: h.Handler.WithGroup(name)}
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(strings.ToUpper(s)))
	return l, err
}

func main() {
	listen := flag.String("listen", envOr("FERRETDB_LISTEN_ADDR", "127.0.0.1:27017"), "TCP listen address")
	dir := flag.String("sqlite-dir", envOr("FERRETDB_SQLITE_DIR", "data"), "directory for SQLite database files")
	level := flag.String("log-level", envOr("FERRETDB_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	flag.Parse()

	if err := run(*listen, *dir, *level); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-runner: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, dir, level string) error {
	lvl, err := parseLevel(level)
	if err != nil {
		return fmt.Errorf("invalid log level %q: %w", level, err)
	}

	logger := slog.New(&quietHandler{Handler: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})})
	slog.SetDefault(logger)

	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolving SQLite directory: %w", err)
	}
	if err = os.MkdirAll(absDir, 0o755); err != nil {
		return fmt.Errorf("creating SQLite directory: %w", err)
	}

	// FerretDB requires the SQLite URI to be a directory ending with a slash.
	sqliteURL := "file:" + strings.TrimSuffix(absDir, "/") + "/"

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("FerretDB starting", "listen", listen, "sqlite", sqliteURL, "pid", os.Getpid())

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	select {
	case err = <-done:
		// Run returned without a signal: the listener failed.
		if err == nil {
			err = errors.New("FerretDB stopped unexpectedly")
		}
		return err
	case <-ctx.Done():
	}

	logger.Info("signal received, shutting down")
	stop() // a second signal now kills the process the default way

	select {
	case err = <-done:
		if err != nil {
			return err
		}
	case <-time.After(15 * time.Second):
		return errors.New("timed out waiting for FerretDB to shut down")
	}

	logger.Info("FerretDB stopped")
	return nil
}
