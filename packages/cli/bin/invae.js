#!/usr/bin/env node
// Stable entry point for the `invae` binary; the implementation is built into dist/.
import '../dist/bin.js';
