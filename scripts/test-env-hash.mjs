#!/usr/bin/env node
// Nx `runtime` input of the test target (nx.json): one line saying whether the shared folder (../shared or
// $INVAE_SHARED) and its parts exist and which Python judge modules python3 has, so Nx never replays
// test results from a machine or clone that had them on one that has not (and the reverse).
import { testEnvironment } from '../test-support/env.mjs';

console.log(testEnvironment());
