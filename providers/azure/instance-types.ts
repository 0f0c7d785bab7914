/**
 * VM sizes Azure ML managed online deployments accept, with their quota family, cores and GPUs:
 * azure-ai-docs `reference-managed-online-endpoints-vm-sku-list.md` (the list the service
 * checks `instanceType` against). The A10 fractional-GPU sizes list 0 whole GPUs but are GPU
 * machines all the same.
 */
export interface ManagedSku {
  readonly name: string;
  /** The vCPU quota family a deployment of this size draws from. */
  readonly family: string;
  readonly cores: number;
  readonly gpus: number;
}

const TABLE: ReadonlyArray<readonly [string, string, number, number]> = [
  ['Standard_D2as_v4', 'standardDASv4Family', 2, 0],
  ['Standard_D4as_v4', 'standardDASv4Family', 4, 0],
  ['Standard_D8as_v4', 'standardDASv4Family', 8, 0],
  ['Standard_D16as_v4', 'standardDASv4Family', 16, 0],
  ['Standard_D32as_v4', 'standardDASv4Family', 32, 0],
  ['Standard_D48as_v4', 'standardDASv4Family', 48, 0],
  ['Standard_D64as_v4', 'standardDASv4Family', 64, 0],
  ['Standard_D96as_v4', 'standardDASv4Family', 96, 0],
  ['Standard_D2a_v4', 'standardDAv4Family', 2, 0],
  ['Standard_D4a_v4', 'standardDAv4Family', 4, 0],
  ['Standard_D8a_v4', 'standardDAv4Family', 8, 0],
  ['Standard_D16a_v4', 'standardDAv4Family', 16, 0],
  ['Standard_D32a_v4', 'standardDAv4Family', 32, 0],
  ['Standard_D48a_v4', 'standardDAv4Family', 48, 0],
  ['Standard_D64a_v4', 'standardDAv4Family', 64, 0],
  ['Standard_D96a_v4', 'standardDAv4Family', 96, 0],
  ['Standard_DS1_v2', 'standardDSv2Family', 1, 0],
  ['Standard_DS2_v2', 'standardDSv2Family', 2, 0],
  ['Standard_DS3_v2', 'standardDSv2Family', 4, 0],
  ['Standard_DS4_v2', 'standardDSv2Family', 8, 0],
  ['Standard_DS5_v2', 'standardDSv2Family', 16, 0],
  ['Standard_E2s_v3', 'standardESv3Family', 2, 0],
  ['Standard_E4s_v3', 'standardESv3Family', 4, 0],
  ['Standard_E8s_v3', 'standardESv3Family', 8, 0],
  ['Standard_E16s_v3', 'standardESv3Family', 16, 0],
  ['Standard_E32s_v3', 'standardESv3Family', 32, 0],
  ['Standard_E48s_v3', 'standardESv3Family', 48, 0],
  ['Standard_E64s_v3', 'standardESv3Family', 64, 0],
  ['Standard_F2s_v2', 'standardFSv2Family', 2, 0],
  ['Standard_F4s_v2', 'standardFSv2Family', 4, 0],
  ['Standard_F8s_v2', 'standardFSv2Family', 8, 0],
  ['Standard_F16s_v2', 'standardFSv2Family', 16, 0],
  ['Standard_F32s_v2', 'standardFSv2Family', 32, 0],
  ['Standard_F48s_v2', 'standardFSv2Family', 48, 0],
  ['Standard_F64s_v2', 'standardFSv2Family', 64, 0],
  ['Standard_F72s_v2', 'standardFSv2Family', 72, 0],
  ['Standard_FX4mds', 'standardFXMDVSFamily', 4, 0],
  ['Standard_FX12mds', 'standardFXMDVSFamily', 12, 0],
  ['Standard_FX24mds', 'standardFXMDVSFamily', 24, 0],
  ['Standard_FX36mds', 'standardFXMDVSFamily', 36, 0],
  ['Standard_FX48mds', 'standardFXMDVSFamily', 48, 0],
  ['Standard_L8as_v3', 'standardLASv3Family', 8, 0],
  ['Standard_L16as_v3', 'standardLASv3Family', 16, 0],
  ['Standard_L32as_v3', 'standardLASv3Family', 32, 0],
  ['Standard_L48as_v3', 'standardLASv3Family', 48, 0],
  ['Standard_L64as_v3', 'standardLASv3Family', 64, 0],
  ['Standard_L80as_v3', 'standardLASv3Family', 80, 0],
  ['Standard_L8s_v2', 'standardLSv2Family', 8, 0],
  ['Standard_L16s_v2', 'standardLSv2Family', 16, 0],
  ['Standard_L32s_v2', 'standardLSv2Family', 32, 0],
  ['Standard_L48s_v2', 'standardLSv2Family', 48, 0],
  ['Standard_L64s_v2', 'standardLSv2Family', 64, 0],
  ['Standard_L80s_v2', 'standardLSv2Family', 80, 0],
  ['Standard_L8s_v3', 'standardLSv3Family', 8, 0],
  ['Standard_L16s_v3', 'standardLSv3Family', 16, 0],
  ['Standard_L32s_v3', 'standardLSv3Family', 32, 0],
  ['Standard_L48s_v3', 'standardLSv3Family', 48, 0],
  ['Standard_L64s_v3', 'standardLSv3Family', 64, 0],
  ['Standard_L80s_v3', 'standardLSv3Family', 80, 0],
  ['Standard_NC24ads_A100_v4', 'standardNCADSA100v4Family', 24, 1],
  ['Standard_NC48ads_A100_v4', 'standardNCADSA100v4Family', 48, 2],
  ['Standard_NC96ads_A100_v4', 'standardNCADSA100v4Family', 96, 4],
  ['Standard_NC4as_T4_v3', 'Standard NCASv3_T4 Family', 4, 1],
  ['Standard_NC8as_T4_v3', 'Standard NCASv3_T4 Family', 8, 1],
  ['Standard_NC16as_T4_v3', 'Standard NCASv3_T4 Family', 16, 1],
  ['Standard_NC64as_T4_v3', 'Standard NCASv3_T4 Family', 64, 4],
  ['Standard_NC6s_v2', 'standardNCSv2Family', 6, 1],
  ['Standard_NC12s_v2', 'standardNCSv2Family', 12, 2],
  ['Standard_NC24s_v2', 'standardNCSv2Family', 24, 4],
  ['Standard_NC6s_v3', 'standardNCSv3Family', 6, 1],
  ['Standard_NC12s_v3', 'standardNCSv3Family', 12, 2],
  ['Standard_NC24s_v3', 'standardNCSv3Family', 24, 4],
  ['Standard_NC40ads_H100_v5', 'standardNCADSH100v5Family', 40, 1],
  ['Standard_NC80adis_H100_v5', 'standardNCADSH100v5Family', 80, 2],
  ['Standard_ND96amsr_A100_v4', 'Standard NDAMSv4_A100Family', 96, 8],
  ['Standard_ND96asr_v4', 'Standard NDASv4_A100 Family', 96, 8],
  ['Standard_ND40rs_v2', 'standardNDSv2Family', 40, 8],
  ['Standard_ND96is_H100_v5', 'standardNDv5H100Family', 96, 8],
  ['Standard_ND96isr_H100_v5', 'standardNDv5H100Family', 96, 8],
  ['Standard_NV6ads_A10_v5', 'standardNVADSA10v5Family', 6, 0],
  ['Standard_NV12ads_A10_v5', 'standardNVADSA10v5Family', 12, 0],
  ['Standard_NV18ads_A10_v5', 'standardNVADSA10v5Family', 18, 0],
  ['Standard_NV36ads_A10_v5', 'standardNVADSA10v5Family', 36, 1],
  ['Standard_NV36adms_A10_v5', 'standardNVADSA10v5Family', 36, 1],
  ['Standard_NV72ads_A10_v5', 'standardNVADSA10v5Family', 72, 2],];

export const MANAGED_SKUS: readonly ManagedSku[] = TABLE.map(([name, family, cores, gpus]) => ({ name, family, cores, gpus }));

const BY_NAME = new Map(MANAGED_SKUS.map((s) => [s.name.toLowerCase(), s]));

/** Case-insensitive, as the service treats VM size names. */
export function findSku(instanceType: string): ManagedSku | undefined {
  return BY_NAME.get(instanceType.toLowerCase());
}

/** N-series (NC, ND, NV) sizes carry GPUs, whole or fractional. */
export function isGpuSku(instanceType: string | undefined): boolean {
  return instanceType !== undefined && /^Standard_N[CDV]/i.test(instanceType);
}
