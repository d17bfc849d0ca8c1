#!/usr/bin/env node
// The bpf_conformance runner takes one executable as its plugin; this is
// `tsbpf conformance-plugin` under its own name.
import { cmdConformancePlugin } from './conformance-plugin.js';

process.exitCode = cmdConformancePlugin(process.argv.slice(2));
