/**
 * The registry of every calibrated parameter. Each model area keeps its defaults in its
 * own file of this folder (value, unit, range, source); this file only gathers them.
 */
import { ParamRegistry, type ParamDef } from './param.js';

const ALL: ParamDef[] = [];

export const params = new ParamRegistry(ALL);
export * from './param.js';
