package uploader

import "hash/fnv"

// ShardOf is the shard, from 0 to n-1, that the file with object key belongs
// to when n machines share one job (--shard i/n): the 64-bit FNV-1a hash of
// the key's bytes, modulo n. It depends on nothing but the key and n, so
// every machine computes the same split without talking to the others, and
// each file is in exactly one shard.
func ShardOf(key string, n int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}
