// Attachments: the files of a message (thumbnails, the viewer, downloads) and the files
// being attached to one (pick, drop, paste, progress).
export { Files } from './Files';
export { dropAndPaste, Picker } from './Picker';
export { useUploads, type Uploads } from './useUploads';
