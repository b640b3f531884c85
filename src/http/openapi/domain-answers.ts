import { z } from 'zod';

/** The answers of the verified-domain and discovery routes (contract v4), as routes.ts documents them. */

export const domainAnswer = z.object({
  domain: z.string(),
  verified: z.boolean().describe('Only verified domains route learners and count for restrictToDomains'),
  verifiedAt: z.iso.datetime().optional(),
  txt: z.object({
    name: z.string().describe('_sso-broker-challenge.<domain>'),
    value: z.string().describe('sso-broker-domain-verification=<token>: the record must be exactly this'),
  }),
});

export const domainsAnswer = z.object({ domains: z.array(domainAnswer) });

export const discoverAnswer = z
  .union([
    z.object({ sso: z.literal(true), tenant: z.string().describe('The tenant to send the learner to') }),
    z.object({ sso: z.literal(false) }),
  ])
  .describe('sso true only for a verified domain of a tenant this app may use, with an enabled connection');
