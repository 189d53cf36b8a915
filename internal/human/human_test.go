package human

import "testing"

func TestBytesAreIEC(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", -5: "0 B", 1023: "1023 B", 5_000_000: "4.8 MiB", 10 << 20: "10 MiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Rate(10 << 20); got != "10 MiB/s" {
		t.Errorf("Rate = %q", got)
	}
	if got := Rate(0.5); got != "–/s" {
		t.Errorf("Rate of nothing = %q", got)
	}
}

func TestRetryCountsAgainstTheRetriesSetting(t *testing.T) {
	// --retries 2 allows three attempts: the retries are 1 of 2 and 2 of 2.
	if got := Retry(1, 3); got != "retry 1 of 2" {
		t.Errorf("after attempt 1: %q", got)
	}
	if got := Retry(2, 3); got != "retry 2 of 2" {
		t.Errorf("after attempt 2: %q", got)
	}
	for attempts, want := range map[int]string{0: "", 1: "", 2: "1 retry", 4: "3 retries"} {
		if got := Retries(attempts); got != want {
			t.Errorf("Retries(%d) = %q, want %q", attempts, got, want)
		}
	}
}
