package sdk

import (
	"maps"

	pb "github.com/kilnstorage/kiln/sdk/internal/driverpb"
)

// Conversions between the Go contract and the wire, both directions, in one place.

func capsToPB(c Capabilities) *pb.Capabilities {
	return &pb.Capabilities{Snapshots: c.Snapshots, CreateFromSnapshot: c.CreateFromSnapshot,
		Clone: c.Clone, Extend: c.Extend, Inspect: c.Inspect, List: c.List, Connect: c.Connect,
		Probe: c.Probe, Close: c.Close}
}

func capsFromPB(c *pb.Capabilities) Capabilities {
	return Capabilities{Snapshots: c.GetSnapshots(), CreateFromSnapshot: c.GetCreateFromSnapshot(),
		Clone: c.GetClone(), Extend: c.GetExtend(), Inspect: c.GetInspect(), List: c.GetList(),
		Connect: c.GetConnect(), Probe: c.GetProbe(), Close: c.GetClose()}
}

func infoToPB(i Info) *pb.GetInfoResponse {
	out := &pb.GetInfoResponse{Name: i.Name, Version: i.Version, SdkVersion: i.SDKVersion,
		ProtocolMinor: int32(i.ProtocolMinor), Capabilities: capsToPB(i.Capabilities)}
	for _, f := range i.Schema {
		out.ConfigSchema = append(out.ConfigSchema, &pb.ConfigField{Name: f.Name, Type: f.Type,
			Required: f.Required, Default: f.Default, Doc: f.Doc, Secret: f.Secret})
	}
	return out
}

func infoFromPB(r *pb.GetInfoResponse) Info {
	out := Info{Name: r.GetName(), Version: r.GetVersion(), SDKVersion: r.GetSdkVersion(),
		ProtocolMinor: int(r.GetProtocolMinor()), Capabilities: capsFromPB(r.GetCapabilities())}
	for _, f := range r.GetConfigSchema() {
		out.Schema = append(out.Schema, ConfigField{Name: f.GetName(), Type: f.GetType(),
			Required: f.GetRequired(), Default: f.GetDefault(), Doc: f.GetDoc(), Secret: f.GetSecret()})
	}
	return out
}

func capacityToPB(c Capacity) *pb.GetCapacityResponse {
	out := &pb.GetCapacityResponse{Seq: c.Seq, BootId: c.BootID}
	for _, p := range c.Pools {
		out.Pools = append(out.Pools, poolToPB(p))
	}
	return out
}

func capacityFromPB(r *pb.GetCapacityResponse) Capacity {
	out := Capacity{Seq: r.GetSeq(), BootID: r.GetBootId()}
	for _, p := range r.GetPools() {
		out.Pools = append(out.Pools, poolFromPB(p))
	}
	return out
}

func poolToPB(p Pool) *pb.Pool {
	out := &pb.Pool{Name: p.Name, State: pb.PoolState(p.State), StateReason: p.StateReason,
		TotalBytes: p.TotalBytes, FreeBytes: p.FreeBytes, CapacityUnknown: p.CapacityUnknown,
		CapacityInfinite: p.CapacityInfinite, ProvisionedBytes: p.ProvisionedBytes, Thin: p.Thin,
		Thick: p.Thick, MaxOversubscription: p.MaxOversubscription,
		MinVolumeBytes: p.MinVolumeBytes, MaxVolumeBytes: p.MaxVolumeBytes,
		GranularityBytes: p.GranularityBytes, Features: featuresToPB(p.Features)}
	for _, r := range p.Resources {
		out.Resources = append(out.Resources, &pb.Resource{Name: r.Name, Total: r.Total, Free: r.Free})
	}
	if len(p.Attributes) > 0 {
		out.Attributes = make(map[string]*pb.Attribute, len(p.Attributes))
		for k, a := range p.Attributes {
			out.Attributes[k] = attrToPB(a)
		}
	}
	return out
}

func poolFromPB(p *pb.Pool) Pool {
	out := Pool{Name: p.GetName(), State: PoolState(p.GetState()), StateReason: p.GetStateReason(),
		TotalBytes: p.GetTotalBytes(), FreeBytes: p.GetFreeBytes(),
		CapacityUnknown: p.GetCapacityUnknown(), CapacityInfinite: p.GetCapacityInfinite(),
		ProvisionedBytes: p.GetProvisionedBytes(), Thin: p.GetThin(), Thick: p.GetThick(),
		MaxOversubscription: p.GetMaxOversubscription(), MinVolumeBytes: p.GetMinVolumeBytes(),
		MaxVolumeBytes: p.GetMaxVolumeBytes(), GranularityBytes: p.GetGranularityBytes(),
		Features: featuresFromPB(p.GetFeatures())}
	for _, r := range p.GetResources() {
		out.Resources = append(out.Resources, Resource{Name: r.GetName(), Total: r.GetTotal(), Free: r.GetFree()})
	}
	if len(p.GetAttributes()) > 0 {
		out.Attributes = make(map[string]Attribute, len(p.GetAttributes()))
		for k, a := range p.GetAttributes() {
			out.Attributes[k] = attrFromPB(a)
		}
	}
	return out
}

func featuresToPB(f *FeatureSet) *pb.FeatureSet {
	if f == nil {
		return nil
	}
	return &pb.FeatureSet{Snapshots: f.Snapshots, CreateFromSnapshot: f.CreateFromSnapshot,
		Clone: f.Clone, Extend: f.Extend, ExtendOnline: f.ExtendOnline,
		CloneAcrossPools: f.CloneAcrossPools, IndependentSnapshots: f.IndependentSnapshots,
		Protocols: f.Protocols}
}

func featuresFromPB(f *pb.FeatureSet) *FeatureSet {
	if f == nil {
		return nil
	}
	return &FeatureSet{Snapshots: f.GetSnapshots(), CreateFromSnapshot: f.GetCreateFromSnapshot(),
		Clone: f.GetClone(), Extend: f.GetExtend(), ExtendOnline: f.GetExtendOnline(),
		CloneAcrossPools: f.GetCloneAcrossPools(), IndependentSnapshots: f.GetIndependentSnapshots(),
		Protocols: f.GetProtocols()}
}

func attrToPB(a Attribute) *pb.Attribute {
	out := &pb.Attribute{Unit: a.Unit}
	switch a.Kind {
	case AttrString:
		out.Value = &pb.Attribute_StringValue{StringValue: a.Str}
	case AttrInt:
		out.Value = &pb.Attribute_IntValue{IntValue: a.Int}
	case AttrFloat:
		out.Value = &pb.Attribute_FloatValue{FloatValue: a.Float}
	case AttrBool:
		out.Value = &pb.Attribute_BoolValue{BoolValue: a.Bool}
	}
	return out
}

func attrFromPB(a *pb.Attribute) Attribute {
	switch v := a.GetValue().(type) {
	case *pb.Attribute_StringValue:
		return Attribute{Kind: AttrString, Str: v.StringValue, Unit: a.GetUnit()}
	case *pb.Attribute_IntValue:
		return Attribute{Kind: AttrInt, Int: v.IntValue, Unit: a.GetUnit()}
	case *pb.Attribute_FloatValue:
		return Attribute{Kind: AttrFloat, Float: v.FloatValue, Unit: a.GetUnit()}
	case *pb.Attribute_BoolValue:
		return Attribute{Kind: AttrBool, Bool: v.BoolValue, Unit: a.GetUnit()}
	}
	return Attribute{Unit: a.GetUnit()}
}

func volumeToPB(v Volume) *pb.Volume {
	return &pb.Volume{Id: v.ID, Pool: v.Pool, SizeBytes: v.SizeBytes, AllocatedBytes: v.AllocatedBytes,
		Thin: v.Thin, SourceSnapshotId: v.SourceSnapshotID, SourceVolumeId: v.SourceVolumeID,
		ProviderData: v.ProviderData}
}

func volumeFromPB(v *pb.Volume) Volume {
	return Volume{ID: v.GetId(), Pool: v.GetPool(), SizeBytes: v.GetSizeBytes(),
		AllocatedBytes: v.GetAllocatedBytes(), Thin: v.GetThin(),
		SourceSnapshotID: v.GetSourceSnapshotId(), SourceVolumeID: v.GetSourceVolumeId(),
		ProviderData: cloneMap(v.GetProviderData())}
}

func volumeRefToPB(v VolumeRef) *pb.VolumeRef {
	return &pb.VolumeRef{Id: v.ID, Pool: v.Pool, ProviderData: v.ProviderData}
}

func volumeRefFromPB(v *pb.VolumeRef) VolumeRef {
	return VolumeRef{ID: v.GetId(), Pool: v.GetPool(), ProviderData: cloneMap(v.GetProviderData())}
}

func snapshotRefToPB(s SnapshotRef) *pb.SnapshotRef {
	return &pb.SnapshotRef{Id: s.ID, SourceVolumeId: s.SourceVolumeID, Pool: s.Pool, ProviderData: s.ProviderData}
}

func snapshotRefFromPB(s *pb.SnapshotRef) SnapshotRef {
	return SnapshotRef{ID: s.GetId(), SourceVolumeID: s.GetSourceVolumeId(), Pool: s.GetPool(),
		ProviderData: cloneMap(s.GetProviderData())}
}

func snapshotToPB(s Snapshot) *pb.Snapshot {
	return &pb.Snapshot{Id: s.ID, SourceVolumeId: s.SourceVolumeID, Pool: s.Pool,
		SizeBytes: s.SizeBytes, Ready: s.Ready, ProviderData: s.ProviderData}
}

func snapshotFromPB(s *pb.Snapshot) Snapshot {
	return Snapshot{ID: s.GetId(), SourceVolumeID: s.GetSourceVolumeId(), Pool: s.GetPool(),
		SizeBytes: s.GetSizeBytes(), Ready: s.GetReady(), ProviderData: cloneMap(s.GetProviderData())}
}

func createToPB(r CreateVolumeRequest, src source) *pb.CreateVolumeRequest {
	out := &pb.CreateVolumeRequest{Id: r.ID, Name: r.Name, SizeBytes: r.SizeBytes, Pool: r.Pool,
		Params: r.Params, Labels: r.Labels}
	switch {
	case r.Thin == nil:
	case *r.Thin:
		out.Provisioning = pb.Provisioning_PROVISIONING_THIN
	default:
		out.Provisioning = pb.Provisioning_PROVISIONING_THICK
	}
	switch {
	case src.snapshot != nil:
		out.Source = &pb.CreateVolumeRequest_Snapshot{Snapshot: snapshotRefToPB(*src.snapshot)}
	case src.volume != nil:
		out.Source = &pb.CreateVolumeRequest_Volume{Volume: volumeRefToPB(*src.volume)}
	}
	return out
}

func createFromPB(r *pb.CreateVolumeRequest) (CreateVolumeRequest, source) {
	out := CreateVolumeRequest{ID: r.GetId(), Name: r.GetName(), SizeBytes: r.GetSizeBytes(),
		Pool: r.GetPool(), Params: cloneMap(r.GetParams()), Labels: cloneMap(r.GetLabels())}
	switch r.GetProvisioning() {
	case pb.Provisioning_PROVISIONING_THIN:
		out.Thin = new(true)
	case pb.Provisioning_PROVISIONING_THICK:
		out.Thin = new(false)
	}
	var src source
	switch s := r.GetSource().(type) {
	case *pb.CreateVolumeRequest_Snapshot:
		src.snapshot = new(snapshotRefFromPB(s.Snapshot))
	case *pb.CreateVolumeRequest_Volume:
		src.volume = new(volumeRefFromPB(s.Volume))
	}
	return out, src
}

func initiatorToPB(i Initiator) *pb.Initiator {
	return &pb.Initiator{Host: i.Host, Data: i.Data}
}

func initiatorFromPB(i *pb.Initiator) Initiator {
	return Initiator{Host: i.GetHost(), Data: cloneMap(i.GetData())}
}

// cloneMap copies m so that a Go value never aliases a protobuf message; nil stays nil.
func cloneMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
