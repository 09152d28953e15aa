package sdk

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestStatus_roundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   error
		want *Error
	}{
		{"no space with meta", ErrorNoSpace("fast", 10, 4),
			&Error{Code: NoSpace, Reason: "POOL_FULL", Pool: "fast",
				Message: "pool fast has 4 bytes free, 10 needed",
				Meta:    map[string]string{"need_bytes": "10", "free_bytes": "4"}}},
		{"busy with retry", ErrorBusy("volume/a"),
			&Error{Code: Busy, Reason: "OPERATION_IN_FLIGHT", RetryAfter: time.Second,
				Message: "another operation on volume/a is in progress"}},
		{"wrapped error keeps its code", fmt.Errorf("create: %w", ErrorNotFound("snapshot", "s1")),
			&Error{Code: NotFound, Reason: "SNAPSHOT_NOT_FOUND", Message: "snapshot s1 not found",
				Meta: map[string]string{"snapshot_id": "s1"}}},
		{"plain error is internal", errors.New("boom"),
			&Error{Code: Internal, Reason: "INTERNAL", Message: "boom"}},
		{"canceled", context.Canceled,
			&Error{Code: Canceled, Reason: "CANCELED", Message: "context canceled"}},
		{"deadline", fmt.Errorf("lvcreate: %w", context.DeadlineExceeded),
			&Error{Code: DeadlineExceeded, Reason: "DEADLINE_EXCEEDED", Message: "lvcreate: context deadline exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromStatus(toStatus(tt.in, "fake")).(*Error)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if !errors.Is(got, &Error{Code: tt.want.Code}) {
				t.Errorf("errors.Is(%v, code %v) = false", got, tt.want.Code)
			}
		})
	}
}

func TestStatus_codesMapOneToOne(t *testing.T) {
	seen := map[codes.Code]Code{}
	for c := InvalidArgument; c <= DeadlineExceeded; c++ {
		g, ok := toGRPC[c]
		if !ok {
			t.Fatalf("code %v has no gRPC code", c)
		}
		if prev, dup := seen[g]; dup {
			t.Fatalf("codes %v and %v both map to %v", prev, c, g)
		}
		seen[g] = c
		if back := CodeOf(fromStatus(toStatus(&Error{Code: c}, "x"))); back != c {
			t.Errorf("code %v came back as %v", c, back)
		}
	}
}

func TestStatus_foreignStatus(t *testing.T) {
	err := fromStatus(status.Error(codes.Unauthenticated, "who are you"))
	if got := CodeOf(err); got != PermissionDenied {
		t.Errorf("Unauthenticated → %v, want PermissionDenied", got)
	}
	if !errors.Is(fromStatus(status.Error(codes.Canceled, "x")), context.Canceled) {
		t.Error("a Canceled status is not context.Canceled")
	}
}
