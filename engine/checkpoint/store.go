package checkpoint

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
)

// Store keeps resume tokens for sources that have no native offsets, such as
// the object-storage source, which saves which objects are done and how far
// it got into the current one.
//
// Keys are slash-separated relative paths, like "game-telemetry/shard-3":
// non-empty segments other than "." and "..", no leading slash and no
// backslash. Every implementation rejects other keys with an error.
//
// Implementations are safe for concurrent use. ctx limits the whole call;
// an implementation that cannot interrupt its I/O checks ctx before it
// starts. A Store does not keep the token slices it is given or hands out.
type Store interface {
	// Load returns the token last saved under key. It returns an error
	// wrapping ErrNotFound when none was saved, or it was deleted.
	Load(ctx context.Context, key string) ([]byte, error)
	// Save replaces the token under key. When it returns nil the token is
	// durable: a crash afterwards loads it. A failed Save leaves the
	// previous token in place.
	Save(ctx context.Context, key string, token []byte) error
	// Delete removes the token under key. Deleting a key that has no token
	// is not an error.
	Delete(ctx context.Context, key string) error
}

// checkKey reports why key is not a valid Store key, or nil if it is.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("checkpoint key %q: must not be empty", key)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("checkpoint key %q: must be relative, not start with /", key)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("checkpoint key %q: must not contain a backslash or NUL", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("checkpoint key %q: empty path segment", key)
		case ".", "..":
			return fmt.Errorf("checkpoint key %q: path segment %q is not allowed", key, seg)
		}
	}
	// Catches what is only special on some systems, such as a drive letter
	// or a reserved name like NUL on Windows.
	if !filepath.IsLocal(filepath.FromSlash(key)) {
		return fmt.Errorf("checkpoint key %q: not a local path on this system", key)
	}
	return nil
}

// MemStore is a Store that keeps tokens in memory, for tests and the demo.
// The zero MemStore is not ready for use; call NewMemStore.
type MemStore struct {
	mu     sync.Mutex
	tokens map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{tokens: make(map[string][]byte)}
}

// Load returns a copy of the token saved under key, or an error wrapping
// ErrNotFound.
func (s *MemStore) Load(ctx context.Context, key string) ([]byte, error) {
	if err := begin(ctx, "load", key); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	token, ok := s.tokens[key]
	if !ok {
		return nil, fmt.Errorf("load checkpoint %q: %w", key, ErrNotFound)
	}
	return bytes.Clone(token), nil
}

// Save keeps a copy of token under key.
func (s *MemStore) Save(ctx context.Context, key string, token []byte) error {
	if err := begin(ctx, "save", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[key] = bytes.Clone(token)
	return nil
}

// Delete removes the token under key, if there is one.
func (s *MemStore) Delete(ctx context.Context, key string) error {
	if err := begin(ctx, "delete", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, key)
	return nil
}

// begin checks, before op on key starts, that ctx has not ended and that
// key is valid.
func begin(ctx context.Context, op, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s checkpoint %q: %w", op, key, err)
	}
	if err := checkKey(key); err != nil {
		return fmt.Errorf("%s %w", op, err)
	}
	return nil
}
