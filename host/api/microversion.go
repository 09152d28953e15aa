package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Version is a microversion of the volume API, 3.x.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast tells whether v is minor or later within 3.
func (v Version) AtLeast(minor int) bool { return v.Major > 3 || (v.Major == 3 && v.Minor >= minor) }

// MinVersion and MaxVersion bound what the API serves. MaxVersion is the highest microversion
// whose every feature Kiln really implements; raise it only with the feature.
var (
	MinVersion = Version{3, 0}
	MaxVersion = Version{3, 0}
)

const versionHeader = "OpenStack-API-Version"

var versionPattern = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

type versionKey struct{}

// requestVersion is the microversion negotiated for the request.
func requestVersion(ctx context.Context) Version {
	v, ok := ctx.Value(versionKey{}).(Version)
	if !ok {
		return MinVersion
	}
	return v
}

// negotiate parses the OpenStack-API-Version header as Cinder does: absent means 3.0, "latest"
// the maximum, a malformed value or a header without a volume entry is 400, and a version out
// of range is 406. Every answer carries the version and Vary.
func negotiate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, fault := parseVersion(r.Header.Values(versionHeader))
		if fault != nil {
			v = MinVersion
		}
		w.Header().Set(versionHeader, "volume "+v.String())
		w.Header().Add("Vary", versionHeader)
		if fault != nil {
			writeFault(w, fault)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), versionKey{}, v)))
	})
}

func parseVersion(headers []string) (Version, *Fault) {
	if len(headers) == 0 {
		return MinVersion, nil
	}
	var value string
	found := false
	for _, entry := range strings.Split(strings.Join(headers, ","), ",") {
		service, ver, _ := strings.Cut(strings.TrimSpace(entry), " ")
		if strings.EqualFold(service, "volume") {
			value, found = strings.TrimSpace(ver), true
		}
	}
	if !found {
		return Version{}, faultf(http.StatusBadRequest, "The OpenStack-API-Version header has no entry for the volume service.")
	}
	if value == "latest" {
		return MaxVersion, nil
	}
	m := versionPattern.FindStringSubmatch(value)
	if m == nil {
		return Version{}, faultf(http.StatusBadRequest, fmt.Sprintf("API version %q is not in the format MAJOR.MINOR.", value))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	v := Version{major, minor}
	if less(v, MinVersion) || less(MaxVersion, v) {
		return Version{}, faultf(http.StatusNotAcceptable, fmt.Sprintf(
			"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, MinVersion, MaxVersion))
	}
	return v, nil
}

func less(a, b Version) bool { return a.Major < b.Major || (a.Major == b.Major && a.Minor < b.Minor) }
