/**
 * Prebuilt SageMaker serving images: framework × version × region × processor → ECR URI.
 * Facts from AWS's published image tables (sagemaker-python-sdk image_uri_config, as summarised
 * in cloud-apis.md A.5); the algorithm is theirs: {account}.dkr.ecr.{region}.{domain}/{repo}:{tag}
 * with tag = [tag prefix or version, processor, py version, container version] joined by '-'.
 */

/** First-party algorithm containers (sagemaker-scikit-learn, sagemaker-xgboost). */
const FIRST_PARTY: Readonly<Record<string, string>> = {
  'af-south-1': '510948584623', 'ap-east-1': '651117190479', 'ap-northeast-1': '354813040037',
  'ap-northeast-2': '366743142698', 'ap-northeast-3': '867004704886', 'ap-south-1': '720646828776',
  'ap-south-2': '628508329040', 'ap-southeast-1': '121021644041', 'ap-southeast-2': '783357654285',
  'ap-southeast-3': '951798379941', 'ap-southeast-4': '106583098589', 'ca-central-1': '341280168497',
  'ca-west-1': '190319476487', 'cn-north-1': '450853457545', 'cn-northwest-1': '451049120500',
  'eu-central-1': '492215442770', 'eu-central-2': '680994064768', 'eu-north-1': '662702820516',
  'eu-south-1': '978288397137', 'eu-south-2': '104374241257', 'eu-west-1': '141502667606',
  'eu-west-2': '764974769150', 'eu-west-3': '659782779980', 'il-central-1': '898809789911',
  'me-central-1': '272398656194', 'me-south-1': '801668240914', 'sa-east-1': '737474898029',
  'us-east-1': '683313688378', 'us-east-2': '257758044811', 'us-gov-east-1': '237065988967',
  'us-gov-west-1': '414596584902', 'us-west-1': '746614075791', 'us-west-2': '246618743249',
};

/** AWS Deep Learning Containers (pytorch-inference, tensorflow-inference, huggingface TGI). */
const DLC: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356', 'ap-east-1': '871362719292', 'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884', 'ap-northeast-3': '364406365360', 'ap-south-1': '763104351884',
  'ap-south-2': '772153158452', 'ap-southeast-1': '763104351884', 'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896', 'ap-southeast-4': '457447274322', 'ca-central-1': '763104351884',
  'ca-west-1': '204538143572', 'cn-north-1': '727897471807', 'cn-northwest-1': '727897471807',
  'eu-central-1': '763104351884', 'eu-central-2': '380420809688', 'eu-north-1': '763104351884',
  'eu-south-1': '692866216735', 'eu-south-2': '503227376785', 'eu-west-1': '763104351884',
  'eu-west-2': '763104351884', 'eu-west-3': '763104351884', 'il-central-1': '780543022126',
  'me-central-1': '914824155844', 'me-south-1': '217643126080', 'sa-east-1': '763104351884',
  'us-east-1': '763104351884', 'us-east-2': '763104351884', 'us-gov-east-1': '446045086412',
  'us-gov-west-1': '442386744353', 'us-west-1': '763104351884', 'us-west-2': '763104351884',
};

type Processor = 'cpu' | 'gpu';

interface ImageVersion {
  registries: Readonly<Record<string, string>>;
  repository: string;
  processors: readonly Processor[];
  /** Tag parts after the processor; omitted when the published tag is the bare version. */
  py?: string;
  tagPrefix?: string;
  containerVersion?: Partial<Record<Processor, string>>;
  bareTag?: boolean;
}

const TGI = (torch: string, tgi: string, py: string, cuda: string): ImageVersion => ({
  registries: DLC,
  repository: 'huggingface-pytorch-tgi-inference',
  processors: ['gpu'],
  py,
  tagPrefix: `${torch}-tgi${tgi}`,
  containerVersion: { gpu: cuda },
});

/** framework → version → image facts. `aliases` maps short versions users write. */
const IMAGES: Readonly<Record<string, { versions: Readonly<Record<string, ImageVersion>>; aliases?: Readonly<Record<string, string>>; default: string }>> = {
  sklearn: {
    default: '1.2-1',
    aliases: { '1.2': '1.2-1' },
    versions: { '1.2-1': { registries: FIRST_PARTY, repository: 'sagemaker-scikit-learn', processors: ['cpu'], py: 'py3' } },
  },
  xgboost: {
    default: '1.7-1',
    aliases: { '1.7': '1.7-1' },
    versions: { '1.7-1': { registries: FIRST_PARTY, repository: 'sagemaker-xgboost', processors: ['cpu', 'gpu'], bareTag: true } },
  },
  pytorch: {
    default: '2.6.0',
    aliases: { '2.6': '2.6.0' },
    versions: { '2.6.0': { registries: DLC, repository: 'pytorch-inference', processors: ['cpu', 'gpu'], py: 'py312' } },
  },
  tensorflow: {
    default: '2.19.0',
    aliases: { '2.19': '2.19.0' },
    versions: { '2.19.0': { registries: DLC, repository: 'tensorflow-inference', processors: ['cpu', 'gpu'] } },
  },
  huggingface: {
    default: '3.3.6',
    aliases: { '3.3': '3.3.6', '3.2': '3.2.3', '3.1': '3.1.1', '3.0': '3.0.1', '2.0': '2.4.0', '2.3': '2.3.1' },
    versions: {
      '3.3.6': TGI('2.7.0', '3.3.6', 'py311', 'cu124-ubuntu22.04'),
      '3.3.4': TGI('2.7.0', '3.3.4', 'py311', 'cu124-ubuntu22.04'),
      '3.2.3': TGI('2.6.0', '3.2.3', 'py311', 'cu124-ubuntu22.04'),
      '3.2.0': TGI('2.6.0', '3.2.0', 'py311', 'cu124-ubuntu22.04'),
      '3.1.1': TGI('2.6.0', '3.1.1', 'py311', 'cu124-ubuntu22.04'),
      '3.0.1': TGI('2.4.0', '3.0.1', 'py311', 'cu124-ubuntu22.04-v2.1'),
      '2.4.0': TGI('2.4.0', '2.4.0', 'py311', 'cu124-ubuntu22.04-v2.2'),
      '2.3.1': TGI('2.4.0', '2.3.1', 'py311', 'cu124-ubuntu22.04'),
    },
  },
};

export class ImageResolutionError extends Error {
  constructor(
    message: string,
    readonly field: 'version' | 'region' | 'framework' | 'type',
    readonly hint: string,
  ) {
    super(message);
  }
}

/** GPU families by the SDK's rule: g* and p* are GPU; inf/trn have their own images (not served here). */
export function processorFor(instanceType: string | undefined): Processor | 'inf' | 'trn' {
  if (!instanceType) return 'cpu'; // serverless
  const family = instanceType.split('.')[1] ?? '';
  if (family.startsWith('inf')) return 'inf';
  if (family.startsWith('trn')) return 'trn';
  return family.startsWith('g') || family.startsWith('p') ? 'gpu' : 'cpu';
}

export function ecrDomain(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isof-')) return 'csp.hci.ic.gov';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  return 'amazonaws.com';
}

export function supportedVersions(framework: string): string[] {
  return Object.keys(IMAGES[framework]?.versions ?? {});
}

export function resolveImage(framework: string, version: string | undefined, region: string, instanceType: string | undefined): string {
  const table = IMAGES[framework];
  if (!table) throw new ImageResolutionError(`SageMaker has no prebuilt serving image for ${framework}`, 'framework', 'set model.image to a serving image in ECR');
  const wanted = version ?? table.default;
  const resolved = table.aliases?.[wanted] ?? wanted;
  const entry = table.versions[resolved];
  if (!entry) {
    throw new ImageResolutionError(
      `no prebuilt ${framework} serving image for version ${wanted}`,
      'version',
      `known versions: ${supportedVersions(framework).join(', ')}; or set model.image`,
    );
  }
  const account = entry.registries[region];
  if (!account) throw new ImageResolutionError(`the prebuilt ${framework} ${resolved} image is not published in ${region}`, 'region', 'pick another region, or set model.image');
  const processor = processorFor(instanceType);
  if (processor === 'inf' || processor === 'trn' || !entry.processors.includes(processor)) {
    throw new ImageResolutionError(
      `the prebuilt ${framework} ${resolved} image has no ${processor} build (it has ${entry.processors.join(', ')})`,
      'type',
      entry.processors.includes('gpu') ? 'pick a GPU instance such as ml.g5.xlarge' : 'pick a CPU instance such as ml.m5.large',
    );
  }
  const tag = entry.bareTag ? resolved : [entry.tagPrefix ?? resolved, processor, entry.py, entry.containerVersion?.[processor]].filter(Boolean).join('-');
  return `${account}.dkr.ecr.${region}.${ecrDomain(region)}/${entry.repository}:${tag}`;
}
