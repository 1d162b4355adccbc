// Package bucket opens object-storage buckets from URLs for the object-store
// source and sink and for shared checkpoint state, on gocloud.dev/blob:
//
//	file:///var/lib/lake          a local directory (file://relative/dir also works)
//	mem://                        in memory (tests)
//	s3://lake?region=us-east-1    AWS S3
//	s3://lake?endpoint=http://127.0.0.1:7070&use_path_style=true&region=us-east-1
//	                              any S3-compatible server (versitygw, MinIO, Ceph)
//
// S3 credentials come from the usual AWS sources (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, a profile, an instance role).
//
// It is not a client of its own: it returns a *blob.Bucket and adds a
// checkpoint.Store kept in a bucket.
package bucket
