import type { AppContext } from '../context.js';
import { defineRoute, type Principal, type RouteDefinition } from '../lib/routes.js';
import { getReleaseForStaff } from '../releases/operations.js';
import { attachmentResponse, releaseParams } from '../releases/schemas.js';
import { addAttachment, removeAttachment, updateAttachment } from './operations.js';
import { presentAttachment } from './presenter.js';
import { attachmentParams, fileParams, renditionParams, updateAttachmentBody, uploadForm } from './schemas.js';
import { serveAttachmentFile } from './serve.js';

export function attachmentRoutes(ctx: AppContext): RouteDefinition[] {
  const loadRelease = ({ params, principal }: { params: { id: string }; principal: Principal }) =>
    getReleaseForStaff(ctx, params.id, principal);
  return [
    defineRoute({
      method: 'post',
      path: '/api/releases/:id/attachments',
      tag: 'Attachments',
      summary: 'Attach a file (multipart/form-data: file, credit, caption_<lang>); a size limit applies (413)',
      access: 'token',
      params: releaseParams,
      multipart: uploadForm,
      responses: { 201: { description: 'Attached', schema: attachmentResponse } },
      errors: [409],
      load: loadRelease,
      async handle({ loaded: release, req }) {
        const attachment = await addAttachment(ctx, release, req);
        return { status: 201, body: presentAttachment(attachment, ctx.config.publicUrl) };
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/releases/:id/attachments/:attachmentId',
      tag: 'Attachments',
      summary: "Change an attachment's captions or credit",
      access: 'token',
      params: attachmentParams,
      body: updateAttachmentBody,
      responses: { 200: { description: 'Updated', schema: attachmentResponse } },
      errors: [409],
      load: loadRelease,
      async handle({ params, body, loaded: release }) {
        const attachment = await updateAttachment(ctx, release, params.attachmentId, body);
        return { status: 200, body: presentAttachment(attachment, ctx.config.publicUrl) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/releases/:id/attachments/:attachmentId',
      tag: 'Attachments',
      summary: 'Take an attachment off a release',
      access: 'token',
      params: attachmentParams,
      responses: { 204: { description: 'Removed' } },
      load: loadRelease,
      async handle({ params, loaded: release }) {
        await removeAttachment(ctx, release, params.attachmentId);
        return { status: 204 };
      },
    }),
  ];
}

const embargoNote =
  'Public once the release is; before that (and after withdrawal) only with a token of its newsroom, uncached.';

export function fileRoutes(ctx: AppContext): RouteDefinition[] {
  return [
    // Before the catch-all below; upload names never come out as "web" (see cleanFilename).
    defineRoute({
      method: 'get',
      path: '/files/:attachmentId/web',
      tag: 'Files',
      summary: `The web-size version of an image attachment (WebP, at most 1600 px). ${embargoNote}`,
      access: 'public',
      params: renditionParams,
      responses: { 200: { description: 'The image' } },
      errors: [410],
      async handle({ params, principal, res }) {
        await serveAttachmentFile(ctx, res, params.attachmentId, principal, 'web');
      },
    }),
    defineRoute({
      method: 'get',
      path: '/files/:attachmentId/:filename',
      tag: 'Files',
      summary: `An attachment's file; the name segment is for people and is not checked. ${embargoNote}`,
      access: 'public',
      params: fileParams,
      responses: { 200: { description: 'The file, with the type read from its bytes at upload' } },
      errors: [410],
      async handle({ params, principal, res }) {
        await serveAttachmentFile(ctx, res, params.attachmentId, principal, 'original');
      },
    }),
  ];
}
