export { newSecret, hashSecret, verifySecret, newToken, hashToken, sameToken } from './secrets.js';
