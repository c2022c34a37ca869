'use strict';
// web-ifc (Emscripten -fwasm-exceptions: legacy exceptions): opens a small IFC text,
// reads its lines, saves it.
// Run by packages.test.js as `node web-ifc.js builtin|ours`: with `ours`, the
// global WebAssembly is replaced by wasm-memory-rs before the package loads.
if (process.argv[2] === 'ours') globalThis.WebAssembly = require('../..');
const WebIFC = require('web-ifc');
const ifc = `ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');
FILE_NAME('tiny.ifc','2024-01-01T00:00:00',(''),(''),'','','');
FILE_SCHEMA(('IFC4'));
ENDSEC;
DATA;
#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',$,'Tiny project',$,$,$,$,(#7),#8);
#2=IFCCARTESIANPOINT((0.,0.,0.));
#3=IFCDIRECTION((0.,0.,1.));
#4=IFCDIRECTION((1.,0.,0.));
#5=IFCAXIS2PLACEMENT3D(#2,#3,#4);
#7=IFCGEOMETRICREPRESENTATIONCONTEXT($,'Model',3,1.E-05,#5,$);
#8=IFCUNITASSIGNMENT((#9));
#9=IFCSIUNIT(*,.LENGTHUNIT.,$,.METRE.);
#10=IFCWALL('2O2Fr$t4X7Zf8NOew3FLOH',$,'Wall A',$,$,$,$,$,$);
#11=IFCWALL('2O2Fr$t4X7Zf8NOew3FLOI',$,'Wall B','a wall',$,$,$,$,$);
ENDSEC;
END-ISO-10303-21;
`;
(async () => {
  const api = new WebIFC.IfcAPI();
  await api.Init();
  const id = api.OpenModel(new TextEncoder().encode(ifc));
  const walls = api.GetLineIDsWithType(id, WebIFC.IFCWALL);
  const out = [];
  for (let i = 0; i < walls.size(); i++) { const l = api.GetLine(id, walls.get(i)); out.push(l.Name.value, l.GlobalId.value); }
  const project = api.GetLine(id, 1);
  out.push(project.Name.value, api.GetModelSchema(id), api.GetAllLines(id).size());
  try { api.GetLine(id, 99999); out.push('no error'); } catch (e) { out.push('error ' + e.message); }
  const saved = api.SaveModel(id);
  out.push(saved.length);
  api.CloseModel(id);
  console.log(JSON.stringify(out));
})().catch((e) => { console.error('FAIL', e); process.exit(1); });
