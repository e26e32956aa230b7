// The request-body gate for the whole API, in one middleware on the hot path of every
// write: a body must be JSON (415 otherwise), UTF-8 (415), no larger than the limit (413,
// refused from Content-Length before reading when it can be), and well-formed (400). The
// raw bytes are kept for forwarding to the leader. It replaces express.json(), which parsed
// the media type twice and went through raw-body and iconv for every request.

import type { NextFunction, Request, Response } from 'express';
import { ApiError } from './problem.js';

/** application/json, or any application/<something>+json. */
function isJsonType(contentType: string): boolean {
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** The charset parameter, lower-cased, or null when absent. */
function charsetOf(contentType: string): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match ? match[1]!.toLowerCase() : null;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

export function jsonBody(limitBytes: number): (req: Request, res: Response, next: NextFunction) => void {
  const tooLarge = (): ApiError =>
    new ApiError('payload_too_large', `the request body is larger than ${limitBytes} bytes`);
  return (req, _res, next) => {
    if (!hasBody(req)) {
      next();
      return;
    }
    const contentType = req.headers['content-type'] ?? '';
    if (!isJsonType(contentType)) {
      // A body on a GET is ignored, as HTTP says it carries no meaning there.
      if (req.method === 'GET' || req.method === 'HEAD') {
        next();
        return;
      }
      next(
        new ApiError(
          'unsupported_media_type',
          `request bodies must be application/json, not ${JSON.stringify(contentType || 'none')}`,
        ),
      );
      return;
    }
    const charset = charsetOf(contentType);
    if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
      next(new ApiError('unsupported_media_type', `request bodies must be UTF-8, not ${charset}`));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > limitBytes) {
      req.resume();
      next(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        next(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      if (failed) return;
      failed = true;
      next(new ApiError('invalid_request', 'the request body could not be read'));
    });
    req.on('end', () => {
      if (failed) return;
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      (req as Request & { rawBody?: Buffer }).rawBody = raw;
      if (size === 0) {
        next();
        return;
      }
      try {
        req.body = JSON.parse(raw.toString('utf8')) as unknown;
      } catch {
        next(new ApiError('malformed_json', 'the request body is not valid JSON'));
        return;
      }
      next();
    });
  };
}
