package store

import (
	"time"

	"github.com/kilnstorage/kiln/host/scheduler"
	"github.com/kilnstorage/kiln/sdk"
)

// SchedulerPool is the pool as the scheduler sees it at now: the driver's last report, the
// operator's configuration of its backend and the claim ledger's figures.
func (p PoolState) SchedulerPool(now time.Time) scheduler.Pool {
	r := p.Report
	out := scheduler.Pool{
		Backend: p.Backend, Name: r.Name, Zone: p.AvailabilityZone,
		State: scheduler.PoolState(r.State), Age: now.Sub(p.ReceivedAt),
		TotalBytes: r.TotalBytes, FreeBytes: r.FreeBytes, Unknown: r.CapacityUnknown, Infinite: r.CapacityInfinite,
		ProvisionedBytes: r.ProvisionedBytes, AllocatedBytes: p.ClaimedBytes, Volumes: p.ClaimedVolumes,
		Thin: r.Thin, Thick: r.Thick, MaxOversubscription: p.ratio(),
		ReservedPercent: p.ReservedPercentage, MinVolumeBytes: r.MinVolumeBytes, MaxVolumeBytes: r.MaxVolumeBytes,
		VolumeBackendName: p.Info.VolumeBackendName, VendorName: p.Info.VendorName,
		DriverVersion: p.Info.DriverVersion, FilterFunction: p.Info.FilterFunction,
		GoodnessFunction: p.Info.GoodnessFunction,
	}
	if f := r.Features; f != nil {
		out.Features, out.Protocols = features(*f), f.Protocols
	}
	if len(r.Attributes) > 0 {
		out.Attributes = make(map[string]scheduler.Attribute, len(r.Attributes))
		for k, a := range r.Attributes {
			out.Attributes[k] = scheduler.Attribute{Kind: scheduler.AttrKind(a.Kind), Str: a.Str,
				Int: a.Int, Float: a.Float, Bool: a.Bool, Unit: a.Unit}
		}
	}
	return out
}

// ratio is the operator's max_over_subscription_ratio, else the driver's hint, else the
// scheduler's default. The configuration was validated when it was loaded.
func (p PoolState) ratio() scheduler.Ratio {
	if p.MaxOverSubscriptionRatio != "" {
		if r, err := scheduler.ParseRatio(p.MaxOverSubscriptionRatio); err == nil {
			return r
		}
	}
	if h := p.Report.MaxOversubscription; h >= 1 {
		return scheduler.Ratio{Value: h}
	}
	return scheduler.Ratio{}
}

func features(f sdk.FeatureSet) scheduler.Features {
	var out scheduler.Features
	for _, x := range []struct {
		on bool
		f  scheduler.Features
	}{
		{f.Snapshots, scheduler.FeatureSnapshots}, {f.CreateFromSnapshot, scheduler.FeatureCreateFromSnapshot},
		{f.Clone, scheduler.FeatureClone}, {f.Extend, scheduler.FeatureExtend},
		{f.ExtendOnline, scheduler.FeatureExtendOnline}, {f.CloneAcrossPools, scheduler.FeatureCloneAcrossPools},
	} {
		if x.on {
			out |= x.f
		}
	}
	return out
}
