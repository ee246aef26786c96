/**
 * The facts' type tags (./facts.ts) as @bufbuild/cel's types. Worker side only (./worker.ts through
 * ./compile.ts): importing this module loads CEL, which the daemon's thread must not (./engine.ts).
 */
import { CelScalar, listType, mapType, type CelType } from '@bufbuild/cel';
import type { FactType } from './facts.ts';

const TYPES: Readonly<Record<FactType, CelType>> = {
  int: CelScalar.INT,
  double: CelScalar.DOUBLE,
  string: CelScalar.STRING,
  dyn: CelScalar.DYN,
  'list<string>': listType(CelScalar.STRING),
  'map<string,int>': mapType(CelScalar.STRING, CelScalar.INT),
};

export const celType = (tag: FactType): CelType => TYPES[tag];
