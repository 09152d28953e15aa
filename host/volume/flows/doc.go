// Package flows is Kiln's volume and snapshot lifecycle, starting with the create-volume path: Cinder's three task flows on the host/flow
// engine, with the defects of reference/cinder.md §8–§9 fixed.
//
//   - volume_create_api (api.go): ExtractVolumeRequestTask → QuotaReserveTask →
//     EntryCreateTask → QuotaCommitTask → VolumeCastTask. It runs in the caller's request and
//     ends once the volume is handed to the scheduler queue; when the queue refuses it, the
//     flow reverts, so no orphan `creating` row is left (Cinder §1.1).
//   - volume_create_scheduler (schedule.go): ExtractSchedulerSpecTask →
//     ScheduleCreateVolumeTask. It places the volume with store.Place and scheduler.Pick
//     (pools already tried are excluded) and casts it to the volume queue; when no pool
//     passes, the volume goes to `error` with the scheduler's per-filter explanation.
//   - volume_create_manager (manager.go): ExtractVolumeRefTask → OnFailureRescheduleTask →
//     ExtractVolumeSpecTask → NotifyVolumeActionTask → CreateVolumeFromSpecTask →
//     CreateVolumeOnFinishTask. OnFailureRescheduleTask's revert (reschedule.go) records the
//     attempt and the last error on the volume and either reschedules or ends in `error`; it
//     never leaves the volume `creating`.
//
// Each cast hands the next flow the volume row and its type's extra specs as the casting flow
// wrote or read them (handoff, schedule.go), as Cinder's API hands its scheduler the request
// spec: a fresh create reads neither back. A resumed or rescheduled run reads both.
//
// Volumes from a snapshot or cloned from a volume go through the same three flows (source.go).
// Deletes are volume_delete (delete.go); snapshots have snapshot_create (snapshot.go) and
// snapshot_delete (snapshotdelete.go).
//
// Service (service.go) owns the engine, whose journal makes every flow recoverable, and the
// two bounded queues (queue.go) that stand for Cinder's scheduler and volume services.
//
// The flows live in a package of their own, not in host/volume, because they use host/store,
// which imports host/volume: host/volume keeps the statuses and the transition table, and
// this package moves volumes along it.
package flows
