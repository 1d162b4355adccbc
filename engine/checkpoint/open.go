package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Opener opens the Store that u names, for one URL scheme. It may do I/O,
// limited by ctx.
type Opener func(ctx context.Context, u *url.URL) (Store, error)

// Open opens the Store that rawURL names. It knows two schemes:
//
//   - file:///abs/path and file://rel/path open a FileStore on that
//     directory; in the second form the host and path make up a path
//     relative to the working directory, so file://.sluice/state is
//     ./.sluice/state.
//   - mem:// opens a new, empty MemStore.
//
// extra adds schemes, such as a bucket URL for distributed backfills, keyed
// by lowercase scheme name; an entry for file or mem replaces the built-in
// one. The URL is shown in errors with any password redacted.
func Open(ctx context.Context, rawURL string, extra map[string]Opener) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// A *url.Error repeats the URL, which may hold a password.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("checkpoint store: parse URL: %w", err)
	}
	name := rawURL
	if _, ok := u.User.Password(); ok {
		name = u.Redacted()
	}
	open := extra[u.Scheme]
	if open == nil {
		open = builtin(u.Scheme)
	}
	if open == nil {
		return nil, fmt.Errorf("checkpoint store %q: unsupported scheme %q (supported: %s)",
			name, u.Scheme, strings.Join(schemes(extra), ", "))
	}
	s, err := open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("checkpoint store %q: %w", name, err)
	}
	return s, nil
}

// builtin returns the Opener of a built-in scheme, or nil.
func builtin(scheme string) Opener {
	switch scheme {
	case "file":
		return openFile
	case "mem":
		return openMem
	}
	return nil
}

// schemes lists the schemes Open supports with extra: the built-in ones,
// then the others in order.
func schemes(extra map[string]Opener) []string {
	names := []string{"file", "mem"}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		if builtin(name) == nil {
			names = append(names, name)
		}
	}
	return names
}

// openFile opens a FileStore from a file URL.
func openFile(_ context.Context, u *url.URL) (Store, error) {
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("a file URL takes no user, query or fragment")
	}
	dir := u.Opaque // file:rel/path
	if dir == "" {
		dir = u.Host + u.Path
	}
	if dir == "" {
		return nil, errors.New("a file URL must name a directory, as in file://.sluice/state")
	}
	return NewFileStore(dir)
}

// openMem opens a MemStore from a mem URL.
func openMem(_ context.Context, u *url.URL) (Store, error) {
	if *u != (url.URL{Scheme: u.Scheme}) {
		return nil, errors.New("a mem URL takes nothing after mem://")
	}
	return NewMemStore(), nil
}
