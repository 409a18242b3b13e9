/** Test support shared by every package's tests (imported by relative path): see ./gates.ts and ./scratch.ts. */
export * from './gates';
export * from './scratch';
