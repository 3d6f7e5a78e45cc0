function h(r){}
export default {h};
