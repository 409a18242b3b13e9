/**
 * @invae/bench — scib-metrics-compatible integration metrics, dataset registry and reports.
 * @packageDocumentation
 */
export { VERSION } from './version';
