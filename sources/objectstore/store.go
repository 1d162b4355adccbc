package objectstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/sluicehq/sluice/engine/checkpoint"
)

// BucketStore is a checkpoint.Store that keeps each token in an object of
// a bucket, under a prefix, so that the workers of a sharded backfill share
// their state. Save publishes the object when the blob writer closes, which
// replaces it atomically on S3 and the other gocloud drivers: a crash
// leaves the old token or the new one. It is safe for concurrent use; of two
// concurrent Saves of one key, the last to finish wins. BucketStore does not
// own the bucket: closing it is the caller's job.
type BucketStore struct {
	b      *blob.Bucket
	prefix string
}

var _ checkpoint.Store = (*BucketStore)(nil)

// NewBucketStore returns a BucketStore keeping tokens in b, each named
// prefix + key. prefix is used as it is: end it with / for a directory.
func NewBucketStore(b *blob.Bucket, prefix string) *BucketStore {
	return &BucketStore{b: b, prefix: prefix}
}

// Load returns the token saved under key, or an error wrapping
// checkpoint.ErrNotFound.
func (s *BucketStore) Load(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("load %w", err)
	}
	token, err := s.b.ReadAll(ctx, s.prefix+key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, fmt.Errorf("load checkpoint %q: %w", key, checkpoint.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %q: %w", key, err)
	}
	return token, nil
}

// Save replaces the token under key; the new object becomes visible, whole,
// when the write completes.
func (s *BucketStore) Save(ctx context.Context, key string, token []byte) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("save %w", err)
	}
	opts := &blob.WriterOptions{ContentType: "application/json"}
	if err := s.b.WriteAll(ctx, s.prefix+key, token, opts); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	return nil
}

// Delete removes the token under key, if there is one.
func (s *BucketStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("delete %w", err)
	}
	err := s.b.Delete(ctx, s.prefix+key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete checkpoint %q: %w", key, err)
	}
	return nil
}

// checkKey applies the key rules of checkpoint.Store.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("checkpoint key %q: must be a non-empty relative path", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("checkpoint key %q: %w", key, errBadSegment)
		}
	}
	return nil
}

var errBadSegment = errors.New("empty, . or .. path segment")
