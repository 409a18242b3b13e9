#!/usr/bin/env node
import { main } from './main';
import { installSignalCleanup } from './temp-files';

installSignalCleanup();
void main(process.argv).then((code) => {
  process.exitCode = code;
});
