declare module 'h5wasm-plugins' {
  /** Folder URL of the installed package (file://…). */
  export const base_url: string;
  /** Adds the package's plugins folder to the HDF5 plugin search path. */
  export function install_local_plugins(h5wasmModule: unknown): void;
}
