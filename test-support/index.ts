/** Test support shared by every package's tests (imported by relative path): see ./gates.ts. */
export * from './gates';
