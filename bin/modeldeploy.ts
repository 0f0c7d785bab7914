#!/usr/bin/env node
/**
 * The composition root and the package's bin: the CLI (src/) given the provider registry
 * (providers/). Nothing else here: src/ names no provider, providers/ hold no CLI.
 */
import { run } from '../src/cli.js';
import { registry } from '../providers/index.js';

void run(registry);
