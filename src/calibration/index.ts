/**
 * The registry of every calibrated parameter. Each model area keeps its defaults in its
 * own file of this folder (value, unit, range, source); this file only gathers them.
 */
import { BLOCK_PARAMS } from './block.js';
import { DPDK_PARAMS } from './dpdk.js';
import { NET_FAULT_PARAMS } from './net-faults.js';
import { GUEST_PARAMS } from './guest.js';
import { HOST_PARAMS } from './host.js';
import { HOSTNET_PARAMS } from './hostnet.js';
import { ISCSI_PARAMS } from './iscsi.js';
import { BLOCK_FAULT_PARAMS } from './block-faults.js';
import { KVM_PARAMS } from './kvm.js';
import { MIGRATION_PATH_PARAMS } from './migration-path.js';
import { MIGRATION_PARAMS } from './migration.js';
import { NIC_PARAMS } from './nic.js';
import { ParamRegistry, type ParamDef } from './param.js';
import { QEMU_PARAMS } from './qemu.js';
import { STORAGE_PARAMS } from './storage.js';
import { VHOST_PARAMS } from './vhost.js';
import { VIRTIO_PARAMS } from './virtio.js';

const ALL: ParamDef[] = [
  ...HOST_PARAMS,
  ...KVM_PARAMS,
  ...GUEST_PARAMS,
  ...VIRTIO_PARAMS,
  ...QEMU_PARAMS,
  ...VHOST_PARAMS,
  ...DPDK_PARAMS,
  ...NIC_PARAMS,
  ...HOSTNET_PARAMS,
  ...BLOCK_PARAMS,
  ...STORAGE_PARAMS,
  ...ISCSI_PARAMS,
  ...MIGRATION_PATH_PARAMS,
  ...MIGRATION_PARAMS,
  ...BLOCK_FAULT_PARAMS,
  ...NET_FAULT_PARAMS,
];

export const params = new ParamRegistry(ALL);
export * from './param.js';
