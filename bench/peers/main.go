// Command peers uploads files the way other S3 clients' Go libraries do, so
// the benchmark can put hoist beside them on the same server: minio-go's
// FPutObject, aws-sdk-go-v2's upload manager (feature/s3/manager) and its
// transfer manager (feature/s3/transfermanager). Each is used as its
// documentation shows, with credentials (the libraries presign nothing),
// one call per file and N files in flight.
//
//	peers -lib minio-go|s3manager|transfermanager -endpoint http://127.0.0.1:PORT
//	      -bucket B -prefix P -concurrency N [-list LIST] [FILE...]
//
// LIST holds one path a line: 100,000 paths as arguments exceed the
// kernel's limit on a command line (E2BIG).
//
// Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the
// region is auto. It is its own module so hoist does not depend on these
// libraries.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// metadata is what hoist and curl send in the benchmark.
var metadata = map[string]string{"organization-id": "org-bench", "user-id": "u-bench", "ttl-hours": "48"}

func main() {
	lib := flag.String("lib", "", "minio-go, s3manager or transfermanager")
	endpoint := flag.String("endpoint", "", "http://127.0.0.1:PORT")
	bucket := flag.String("bucket", "bench", "bucket")
	prefix := flag.String("prefix", "", "key prefix")
	concurrency := flag.Int("concurrency", 4, "files in flight")
	partSize := flag.Int64("part-size", 16<<20, "multipart part size")
	list := flag.String("list", "", "a file naming the files to upload, one path a line")
	flag.Parse()
	paths := flag.Args()
	if *list != "" {
		b, err := os.ReadFile(*list)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(2)
		}
		for _, p := range strings.Split(string(b), "\n") {
			if p != "" {
				paths = append(paths, p)
			}
		}
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	put, err := uploader(*lib, *endpoint, *bucket, key, secret, *partSize, *concurrency)
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(2)
	}
	files := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range files {
				if err := put(context.Background(), *prefix+"/"+filepath.Base(f), f); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					fmt.Fprintln(os.Stderr, "peers:", f, err)
				}
			}
		}()
	}
	for _, f := range paths {
		files <- f
	}
	close(files)
	wg.Wait()
	if failed > 0 {
		os.Exit(1)
	}
}

type putFunc func(ctx context.Context, key, path string) error

func uploader(lib, endpoint, bucket, key, secret string, partSize int64, concurrency int) (putFunc, error) {
	switch lib {
	case "minio-go":
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, err
		}
		c, err := minio.New(u.Host, &minio.Options{
			Creds: miniocreds.NewStaticV4(key, secret, ""), Secure: u.Scheme == "https", Region: "auto",
			BucketLookup: minio.BucketLookupPath,
		})
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, k, path string) error {
			_, err := c.FPutObject(ctx, bucket, k, path, minio.PutObjectOptions{
				UserMetadata: metadata, ContentType: "application/octet-stream", PartSize: uint64(partSize),
			})
			return err
		}, nil
	case "s3manager", "transfermanager":
		client := s3.New(s3.Options{
			Region: "auto", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		})
		if lib == "s3manager" {
			up := manager.NewUploader(client, func(u *manager.Uploader) { u.PartSize = partSize })
			return func(ctx context.Context, k, path string) error {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				defer f.Close()
				_, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: f, Metadata: metadata})
				return err
			}, nil
		}
		tm := transfermanager.New(client, func(o *transfermanager.Options) { o.PartSizeBytes = partSize })
		return func(ctx context.Context, k, path string) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: f, Metadata: metadata})
			return err
		}, nil
	}
	return nil, fmt.Errorf("-lib %q: want minio-go, s3manager or transfermanager", lib)
}
