package main

import (
	"reflect"
	"testing"
)

func TestGroupProblemsSaysSharedProblemsOnce(t *testing.T) {
	ps := []problem{
		{File: "a", Message: "pins an empty checksum"},
		{File: "b", Error: true, Message: "expired"},
		{File: "c", Message: "pins an empty checksum"},
		{File: "d", Message: "pins an empty checksum"},
	}
	want := []problem{
		{File: "a and 2 other files", Message: "pins an empty checksum"},
		{File: "b", Error: true, Message: "expired"},
	}
	if got := groupProblems(ps); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}
