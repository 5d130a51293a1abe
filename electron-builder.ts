/**
 * Packaging (`npm run dist`, electron-builder): the electron-vite build in
 * out/ becomes an AppImage and a .deb on Linux, a .dmg on macOS and an NSIS
 * installer on Windows. docs/studio.md says how to build and what each
 * artefact is.
 *
 * electron-builder rather than Electron Forge: it packages the out/ folder
 * electron-vite already builds (Forge's Vite plugin would replace
 * electron-vite's build with its own), it makes AppImages itself (Forge has
 * no AppImage maker of its own), one file configures all four artefacts, and
 * fuses and ASAR integrity are settings of it.
 */
import type { Configuration } from 'electron-builder';

/**
 * Electron's fuses, flipped in the packaged binary (they cannot be changed at
 * run time): the app is only ever itself.
 */
export const electronFuses = {
  // ELECTRON_RUN_AS_NODE would turn the signed app into a general Node.js interpreter.
  runAsNode: false,
  // The cookie store encrypted on disk with the operating system's key store.
  enableCookieEncryption: true,
  // No NODE_OPTIONS, no --inspect: nobody injects code through the environment or a debugger.
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  // app.asar is checked against the hash recorded at build time (macOS and Windows; Electron
  // has no ASAR integrity on Linux), and nothing but app.asar is loaded as the app.
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  // The renderer comes from app://studio/, so file:// keeps no privileges beyond a browser's.
  grantFileProtocolExtraPrivileges: false,
  loadBrowserProcessSpecificV8Snapshot: false,
} satisfies Configuration['electronFuses'];

const config: Configuration = {
  appId: 'org.convnetstudio.ConvNetStudio',
  productName: 'ConvNet Studio',
  executableName: 'convnet-studio',
  copyright: 'ConvNet Studio contributors, MIT licence',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: electron-builder's macros
  artifactName: 'convnet-studio-${version}-${arch}.${ext}',
  directories: { output: 'dist', buildResources: 'resources' },
  // The app is electron-vite's output; electron-builder adds the production dependencies, less
  // those only the renderer's bundle (React), the command line (tsx and its esbuild) or other
  // platforms (webgpu's Dawn builds for other systems) use.
  files: [
    'out/main/**',
    'out/preload/**',
    'out/renderer/**',
    '!**/*.map',
    '!node_modules/{react,react-dom,tsx,esbuild,@esbuild}/**',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: electron-builder's macro
    '!node_modules/webgpu/dist/!(${platform}-*)/**',
  ],
  // Beside app.asar, where src/node/shipped-files.ts looks for them (process.resourcesPath).
  extraResources: [
    { from: 'resources/sample', to: 'sample' },
    { from: 'resources/fonts', to: 'fonts' },
    { from: 'resources/icon.png', to: 'icon.png' },
    // A real file: Python runs it (the PyTorch engine), which it could not from inside app.asar.
    { from: 'resources/pytorch', to: 'pytorch' },
  ],
  asar: true,
  electronFuses,
  // Every native module the app loads (webgpu's Dawn, resvg, tfjs-node) uses Node-API, which is
  // stable across Node and Electron: nothing to rebuild against Electron's headers.
  npmRebuild: false,
  publish: null,
  extraMetadata: {
    // Linux desktops match the window to its .desktop entry by this name (Electron's app_id).
    desktopName: 'convnet-studio.desktop',
    // The .deb's Homepage field, which electron-builder requires. The project has no public page
    // yet: replace this reserved, unresolvable address when it has one.
    homepage: 'https://convnet-studio.invalid/',
  },
  linux: {
    target: ['AppImage', 'deb'],
    syncDesktopName: true,
    icon: 'resources/icon.png',
    category: 'Science',
    synopsis: 'Design, train and export convolutional networks visually',
    maintainer: 'ConvNet Studio contributors',
    vendor: 'ConvNet Studio contributors',
  },
  mac: {
    target: ['dmg'],
    icon: 'resources/icon.png',
    category: 'public.app-category.developer-tools',
  },
  win: {
    target: ['nsis'],
    icon: 'resources/icon.png',
  },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
};

export default config;
